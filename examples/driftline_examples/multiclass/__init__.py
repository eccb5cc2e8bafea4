"""Example multiclass model: multinomial logistic regression in numpy, trained and served the SageMaker way.

Same script-mode and champion/challenger contract as the example classifier; the score of a row is the vector
of per-class probabilities (``evaluation_predictions.csv``: ``inference_id,score_0,...,score_{k-1}``; ``text/csv``
responses: one line of ``k`` probabilities per row).
"""

from pathlib import Path

#: The directory to pass as the SageMaker ``source_dir`` (it holds ``train.py`` and ``inference.py``).
SOURCE_DIR = Path(__file__).resolve().parent
TRAIN_ENTRY_POINT = "train.py"
INFERENCE_ENTRY_POINT = "inference.py"
MODEL_FILENAME = "model.json"
