"""``tf.contrib.predictor``'s functions: ``from estimator_rs import predictor``
where the write-up has ``from tensorflow.contrib import predictor``::

    predict_fn = predictor.from_saved_model(export_dir)
    predict_fn({"number": [[nb]]})["output"]
"""

from ._native import Predictor, PredictorError, from_export_base, from_saved_model

__all__ = ["Predictor", "PredictorError", "from_export_base", "from_saved_model"]
