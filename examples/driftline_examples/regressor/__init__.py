"""Example regression model: ridge regression in numpy, trained and served the SageMaker way.

``train.py`` and ``inference.py`` are self-contained (numpy and the standard library only) and follow the same
script-mode and champion/challenger contract as the example classifier: label first in the ``train`` channel,
``evaluation_predictions.csv`` (``inference_id,score`` — the score being the prediction) for the ``evaluation``
channel, one prediction per line in ``text/csv`` responses.
"""

from pathlib import Path

#: The directory to pass as the SageMaker ``source_dir`` (it holds ``train.py`` and ``inference.py``).
SOURCE_DIR = Path(__file__).resolve().parent
TRAIN_ENTRY_POINT = "train.py"
INFERENCE_ENTRY_POINT = "inference.py"
MODEL_FILENAME = "model.json"
