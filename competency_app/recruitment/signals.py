"""Where recruitment tells the rest of the application that someone must act.

Receivers (the email notifications) connect with `signal.connect(receiver)`; each is sent
inside the request's transaction, after the change, with ids only:

- `panel_member_invited(vacancy_id, user_id, link)`: a lay or expert-by-experience member was
  invited; `link` is their one-time, expiring set-your-password address.
- `panel_asked_to_score(vacancy_id, user_ids)`: the vacancy moved to interviewing; each
  interview panel member now has candidates to score.
- `ready_for_agreed_scores(vacancy_id, candidate_id, chair_ids)`: every interview panel
  member has submitted their scores for the candidate; the chair can agree them.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

panel_member_invited = _signals.signal("recruitment.panel_member_invited")
panel_asked_to_score = _signals.signal("recruitment.panel_asked_to_score")
ready_for_agreed_scores = _signals.signal("recruitment.ready_for_agreed_scores")
