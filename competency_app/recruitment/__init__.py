"""Vacancies, candidates, shortlisting and panel interview scoring."""
