"""The ground floor: helpers every feature may use and none owns.

Dates in UK form, the WTForms → NHS.UK design-system bridge, pagination, the workbook
download response and the 404 loader. Nothing here knows a feature's models or rules, and
nothing here imports a feature or `ui/` (tests/test_layers.py checks it).
"""
