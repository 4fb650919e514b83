"""The write-up's Flask app: the latest export under ``saved_model/`` loaded
once, a prediction per request. Only the import differs from the write-up's
(``from tensorflow.contrib import predictor``).

    EXPORT_DIR=saved_model flask --app app run
    curl 'localhost:5000/predict?number=101'
"""

import os
from pathlib import Path

from flask import Flask, jsonify, request

from estimator_rs import predictor

export_dir = os.environ.get("EXPORT_DIR", "saved_model")
subdirs = [x for x in Path(export_dir).iterdir() if x.is_dir() and "temp" not in str(x)]
latest = str(sorted(subdirs)[-1])

predict_fn = predictor.from_saved_model(latest)

app = Flask(__name__)


@app.route("/predict")
def predict():
    nb = float(request.args["number"])
    pred = predict_fn({"number": [[nb]]})["output"]
    return jsonify({"number": nb, "output": float(pred[0][0])})
