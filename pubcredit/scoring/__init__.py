"""Credit evaluation (信用评价): versioned scorecards, the set-based engine, explained grades.

Public surface (what other apps use; everything else is internal):

- `scoring.services`: `current_grade(subject, scorecard=None)` → `Grade`,
  `grades_for(subject_ids, scorecard=None)` (one query), `explain(subject, scorecard=None,
  principal=, purpose=)` (contributions with name, dimension, basis; persons logged),
  `history(subject, …)`, `compute_all(scorecard=None)`, `compute_subjects(ids)`,
  `results_of(scorecard, grades=None)` (current results, for supervision lists),
  `general_scorecard(kind)`, `scorecards_in_force()`.
- `scoring.current`: current grades in hand-written SQL for hot paths (a credit check's one
  statement, a batch check's chunks): `current_grades_sql`, `grade_dicts`,
  `current_grades_many`.
- `scoring.views` / `scoring.urls`: the console's explanation page, `scoring:explain`
  (/console/scoring/subjects/<id>/?scorecard=CODE; "scoring.view", a person only with
  "subjects.view_person" and a 查询事由, logged).
- `scoring.grades.given_grades(subject_ids)`: grades decided by other authorities (纳税信用等级,
  社会组织评估等级) as given, never recomputed.
- `scoring.models`: `Scorecard` (public or not, sector), `ScorecardVersion` (frozen once used),
  `ScoreResult` (one current row per subject × scorecard; earlier rows are the history).
- `scoring.scorecards.import_scorecards(principal)`: the files in `data/scorecards/`.
- `scoring.supervision` (分级分类监管): a department's field (`SupervisionField`), the inspection
  ratio per grade (`InspectionRatio`, `ratios_in_force`), the list (`select`, `page`, `summary`
  with the number to inspect per grade, `workbook` for the xlsx); both models are data
  (`data/supervision.json`, `scoring.policyfile.import_supervision`, the admin). Console page
  `/console/supervision/` (supervision_views), API `GET /api/v1/scoring/supervision`.
- Commands: `pubcredit scoring (import | compute | explain)`.

Freshness: the records-changed flow (records.changes), list changes (lists.changes), publicity
marks (publicity.changes: repairs, objections) and commitment assessments (commitments.changes)
each run `scoring.subscribers`, which recompute the subjects concerned in the same transaction
(or, for large changes, in background tasks on commit). Windows move with the calendar, so a
daily `compute_all_task` keeps every grade current.
"""
