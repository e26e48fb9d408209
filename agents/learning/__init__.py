"""Learning machinery shared by the learned components (alert decision, stance): data files, grouped folds,
bootstrap intervals, feature hashing, a small logistic model and its model card.

Pure Python + numpy at run time. scikit-learn is a training-only dependency (the ``train`` extra), imported
inside :func:`wirewatch.agents.learning.linear.fit_linear` only.
"""
