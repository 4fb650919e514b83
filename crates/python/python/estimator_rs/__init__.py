"""estimator-rs from Python: a TensorFlow-free drop-in for ``tf.contrib.predictor``.

The write-up's reader serves from Python, its predictor loaded once::

    from estimator_rs import predictor

    predict_fn = predictor.from_saved_model(export_dir)
    for nb in range(100, 110):
        print(predict_fn({"number": [[nb]]})["output"])

``from_saved_model`` and ``from_export_base`` take ``tf.contrib.predictor``'s
arguments and load our exports and TensorFlow's SavedModels alike; the
predictor answers a dict of array-likes with a dict of numpy arrays, releases
the GIL while it computes, and is safe to share between threads.
"""

from ._native import (
    Predictor,
    PredictorError,
    Session,
    TensorInfo,
    __version__,
    from_export_base,
    from_saved_model,
)
from . import predictor

__all__ = [
    "Predictor",
    "PredictorError",
    "Session",
    "TensorInfo",
    "__version__",
    "from_export_base",
    "from_saved_model",
    "predictor",
]
