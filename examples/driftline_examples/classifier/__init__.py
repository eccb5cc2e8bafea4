"""Example binary classifier: L2 logistic regression in numpy, trained and served the SageMaker way.

``train.py`` and ``inference.py`` are each self-contained (numpy and the standard library only), because
SageMaker copies the source directory into the container and runs ``train.py`` as a script and imports
``inference.py`` on its own.
"""

from pathlib import Path

#: The directory to pass as the SageMaker ``source_dir`` (it holds ``train.py`` and ``inference.py``).
SOURCE_DIR = Path(__file__).resolve().parent
#: Entry point of the training job (``sagemaker_program``).
TRAIN_ENTRY_POINT = "train.py"
#: Entry point of the inference container (``SAGEMAKER_PROGRAM``).
INFERENCE_ENTRY_POINT = "inference.py"
#: File the training script writes into ``SM_MODEL_DIR``.
MODEL_FILENAME = "model.json"
