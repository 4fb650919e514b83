"""The write-up's Flask app, driven by Flask's test client."""

import importlib.util
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "examples" / "flask" / "app.py"


def test_the_flask_app_answers_with_the_predictor(work, monkeypatch):
    pytest.importorskip("flask")
    monkeypatch.setenv("EXPORT_DIR", str(work / "toy" / "saved_model"))
    spec = importlib.util.spec_from_file_location("app", APP)
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    client = app.app.test_client()
    response = client.get("/predict?number=101")
    assert response.status_code == 200
    body = response.get_json()
    assert body["number"] == 101.0
    assert abs(body["output"] - 202.0) < 0.5
