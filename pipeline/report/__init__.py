"""The run report: one self-contained HTML page per run, for people.

`content` gathers what a run produced (its summary, the Trainer's history, TFMA's
metrics and plots, the test images it misclassified), `figures` draws it
with matplotlib, `page` lays it out as HTML with every figure embedded. The local
runner (`local`) and the pipeline's RunReport component (`component`, run on Kubeflow) call the
same three, so the report looks the same wherever the pipeline ran.
"""
