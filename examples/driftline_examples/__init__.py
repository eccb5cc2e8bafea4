"""Driftline's example model and demo helpers.

- :mod:`driftline_examples.classifier`: a numpy-only logistic-regression classifier with a SageMaker
  script-mode training entry point (``train.py``) and inference-toolkit handlers (``inference.py``).
- :mod:`driftline_examples.traffic`: a seeded traffic generator with covariate and concept drift, and
  writers for SageMaker Data Capture and ground-truth JSON Lines.
- :mod:`driftline_examples.report`: the self-contained HTML/SVG report of the demo.
"""
