//! What the gRPC tests share: the toy exported, TensorFlow Serving's
//! request messages built, answers read back, Prometheus samples read.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use estimator::Steps;
use estimator_rs::{serving_input_receiver_fn, toy_estimator, train_input_fn};
use serving::grpc::proto::model_service_client::ModelServiceClient;
use serving::grpc::proto::model_spec::VersionChoice;
use serving::grpc::proto::prediction_service_client::PredictionServiceClient;
use serving::grpc::proto::{
    DataType, ModelSpec, PredictRequest, TensorProto, TensorShapeProto, tensor_shape_proto::Dim,
};
use tonic::transport::Channel;

/// Trains the toy (`steps` Adam steps) under `dir` and exports it to
/// `dir/saved_model`: the version directory.
pub fn export(dir: &Path, steps: u64) -> PathBuf {
    let estimator = toy_estimator(dir);
    estimator.train(train_input_fn, Steps::Max(steps)).unwrap();
    estimator.export_saved_model(dir.join("saved_model"), serving_input_receiver_fn).unwrap()
}

/// The version number of a version directory.
pub fn version_of(dir: &Path) -> i64 {
    dir.file_name().unwrap().to_str().unwrap().parse().unwrap()
}

/// A ModelSpec of `name`, at `version` or the newest.
pub fn spec(name: &str, version: Option<i64>) -> Option<ModelSpec> {
    Some(ModelSpec {
        name: name.into(),
        version_choice: version.map(VersionChoice::Version),
        signature_name: String::new(),
    })
}

/// A TensorShapeProto of `dims`.
pub fn shape(dims: &[i64]) -> Option<TensorShapeProto> {
    Some(TensorShapeProto {
        dim: dims.iter().map(|&size| Dim { size, name: String::new() }).collect(),
        unknown_rank: false,
    })
}

/// `values` as a DT_FLOAT tensor of `dims`, in `float_val`.
pub fn floats(dims: &[i64], values: &[f32]) -> TensorProto {
    TensorProto {
        dtype: DataType::DtFloat.into(),
        tensor_shape: shape(dims),
        float_val: values.to_vec(),
        ..Default::default()
    }
}

/// A Predict request of `inputs` for the newest version of `name`.
pub fn predict_request(name: &str, inputs: Vec<(&str, TensorProto)>) -> PredictRequest {
    PredictRequest {
        model_spec: spec(name, None),
        inputs: inputs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        output_filter: Vec::new(),
    }
}

/// Clients of both services of the server at `addr`.
pub async fn clients(addr: std::net::SocketAddr) -> (PredictionServiceClient<Channel>, ModelServiceClient<Channel>) {
    let url = format!("http://{addr}");
    (PredictionServiceClient::connect(url.clone()).await.unwrap(), ModelServiceClient::connect(url).await.unwrap())
}

/// The elements of an f32 output, from `float_val` or `tensor_content`.
pub fn f32s(t: &TensorProto) -> Vec<f32> {
    if t.tensor_content.is_empty() {
        t.float_val.clone()
    } else {
        t.tensor_content.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
    }
}

/// The dims of a tensor.
pub fn dims(t: &TensorProto) -> Vec<i64> {
    t.tensor_shape.as_ref().unwrap().dim.iter().map(|d| d.size).collect()
}

/// The value of the sample `line` (name and labels) on a Prometheus
/// `page`, 0 if absent.
pub fn sample(page: &str, line: &str) -> u64 {
    page.lines()
        .find_map(|l| l.strip_prefix(line).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0, |v| v.parse().unwrap())
}
