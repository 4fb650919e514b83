//! `tensorflow.serving.PredictionService`: Predict, GetModelMetadata,
//! Classify and Regress (tf.Examples through a classification or
//! regression signature); MultiInference answered UNIMPLEMENTED.

use std::sync::Arc;
use std::time::Instant;

use prost::Message;
use tonic::{Request, Response, Status};

use super::proto::input::Kind as InputKind;
use super::proto::prediction_service_server::PredictionService;
use super::proto::{
    Class, ClassificationRequest, ClassificationResponse, ClassificationResult, Classifications,
    GetModelMetadataRequest, GetModelMetadataResponse, Input, MultiInferenceRequest, MultiInferenceResponse,
    PredictRequest, PredictResponse, Regression, RegressionRequest, RegressionResponse, RegressionResult,
    SIGNATURE_DEF_MAP_TYPE_URL, SignatureDef, SignatureDefMap, TensorInfo,
};
use super::tensor::{self, TensorEncoding};
use super::{answered, model_spec, observed, respond, wanted};
use crate::error::Error;
use crate::inference;
use crate::metrics::Api;
use crate::model::Loaded;
use crate::registry::Models;

/// Why MultiInference is not served.
const NO_MULTI_INFERENCE: &str = "call Classify, Regress or Predict, one signature a call";

/// The service's state: the models served and how outputs are written.
pub(crate) struct Prediction {
    pub(crate) models: Arc<Models>,
    pub(crate) encoding: TensorEncoding,
}

impl Prediction {
    async fn predict(&self, request: PredictRequest) -> Result<PredictResponse, Error> {
        let spec = model_spec(request.model_spec)?;
        let (model, loaded) = self.models.serving(&spec.name, wanted(&spec))?;
        let predictor = loaded.predictor(&spec.signature_name)?;
        let inputs = tensor::decode_inputs(predictor, request.inputs)?;
        let outputs = self.models.predict(&loaded, &spec.signature_name, inputs).await?;
        if let Some(key) = request.output_filter.iter().find(|k| outputs.get(k).is_none()) {
            return Err(Error::UnknownOutput {
                key: key.clone(),
                expected: outputs.keys().map(str::to_owned).collect(),
            });
        }
        let outputs = outputs
            .iter()
            .filter(|(key, _)| request.output_filter.is_empty() || request.output_filter.iter().any(|k| k == key))
            .map(|(key, t)| (key.to_owned(), tensor::encode(t, self.encoding)))
            .collect();
        Ok(PredictResponse {
            model_spec: Some(answered(&model.name, loaded.version, predictor.signature_name())),
            outputs,
        })
    }

    fn metadata(&self, request: GetModelMetadataRequest) -> Result<GetModelMetadataResponse, Error> {
        let spec = model_spec(request.model_spec)?;
        if request.metadata_field.is_empty() {
            return Err(Error::BadRequest("GetModelMetadataRequest must specify at least one metadata_field".into()));
        }
        if let Some(field) = request.metadata_field.iter().find(|f| *f != "signature_def") {
            return Err(Error::BadRequest(format!(
                "Metadata field {field} is not supported; the supported field is signature_def"
            )));
        }
        let (model, loaded) = self.models.serving(&spec.name, wanted(&spec))?;
        let any = prost_types::Any {
            type_url: SIGNATURE_DEF_MAP_TYPE_URL.into(),
            value: signature_defs(&loaded).encode_to_vec(),
        };
        Ok(GetModelMetadataResponse {
            model_spec: Some(answered(&model.name, loaded.version, "")),
            metadata: [("signature_def".to_owned(), any)].into_iter().collect(),
        })
    }

    async fn classify(&self, request: ClassificationRequest) -> Result<ClassificationResponse, Error> {
        let spec = model_spec(request.model_spec)?;
        let (model, loaded) = self.models.serving(&spec.name, wanted(&spec))?;
        let examples = serialized(request.input)?;
        let classes = inference::classify(&self.models, &loaded, &spec.signature_name, examples).await?;
        let classifications = classes
            .into_iter()
            .map(|row| Classifications {
                classes: row
                    .into_iter()
                    .map(|c| Class {
                        label: c.label.map(|l| String::from_utf8_lossy(&l).into_owned()).unwrap_or_default(),
                        score: c.score.unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect();
        let signature = loaded.predictor(&spec.signature_name)?.signature_name().to_owned();
        Ok(ClassificationResponse {
            model_spec: Some(answered(&model.name, loaded.version, &signature)),
            result: Some(ClassificationResult { classifications }),
        })
    }

    async fn regress(&self, request: RegressionRequest) -> Result<RegressionResponse, Error> {
        let spec = model_spec(request.model_spec)?;
        let (model, loaded) = self.models.serving(&spec.name, wanted(&spec))?;
        let examples = serialized(request.input)?;
        let values = inference::regress(&self.models, &loaded, &spec.signature_name, examples).await?;
        let signature = loaded.predictor(&spec.signature_name)?.signature_name().to_owned();
        Ok(RegressionResponse {
            model_spec: Some(answered(&model.name, loaded.version, &signature)),
            result: Some(RegressionResult {
                regressions: values.into_iter().map(|value| Regression { value }).collect(),
            }),
        })
    }
}

/// The serialized examples of a request's `Input`: each example's bytes,
/// after the context's for an `example_list_with_context` (a proto merge,
/// as TensorFlow Serving serializes them: the example's features win).
///
/// # Errors
/// [`Error::BadRequest`] for no input.
fn serialized(input: Option<Input>) -> Result<Vec<predictor::Bytes>, Error> {
    match input.and_then(|i| i.kind) {
        Some(InputKind::ExampleList(list)) => {
            Ok(list.examples.iter().map(|e| predictor::Bytes::from(e.encode_to_vec())).collect())
        }
        Some(InputKind::ExampleListWithContext(list)) => {
            let context = list.context.map(|c| c.encode_to_vec()).unwrap_or_default();
            Ok(list
                .examples
                .iter()
                .map(|e| {
                    let mut bytes = context.clone();
                    bytes.extend(e.encode_to_vec());
                    predictor::Bytes::from(bytes)
                })
                .collect())
        }
        None => Err(Error::BadRequest("Input is empty: give an example_list or an example_list_with_context".into())),
    }
}

/// Every signature of `loaded` as TensorFlow's `SignatureDefMap`.
fn signature_defs(loaded: &Loaded) -> SignatureDefMap {
    let side = |infos: &std::collections::BTreeMap<String, predictor::TensorInfo>| {
        infos
            .iter()
            .map(|(key, info)| {
                let proto = TensorInfo {
                    name: info.name.clone(),
                    dtype: tensor::proto_dtype(info.dtype).into(),
                    tensor_shape: Some(tensor::proto_shape(info.shape.to_dims())),
                };
                (key.clone(), proto)
            })
            .collect()
    };
    let signature_def = loaded
        .predictors
        .iter()
        .map(|(key, p)| {
            let sig = p.signature();
            let def = SignatureDef {
                inputs: side(&sig.inputs),
                outputs: side(&sig.outputs),
                method_name: sig.method_name.clone(),
            };
            (key.clone(), def)
        })
        .collect();
    SignatureDefMap { signature_def }
}

#[tonic::async_trait]
impl PredictionService for Prediction {
    async fn predict(&self, request: Request<PredictRequest>) -> Result<Response<PredictResponse>, Status> {
        let (started, spec) = (Instant::now(), request.get_ref().model_spec.clone());
        observed(&self.models, Api::Predict, spec.as_ref(), started, self.predict(request.into_inner()).await)
    }

    async fn get_model_metadata(
        &self,
        request: Request<GetModelMetadataRequest>,
    ) -> Result<Response<GetModelMetadataResponse>, Status> {
        let (started, spec) = (Instant::now(), request.get_ref().model_spec.clone());
        observed(&self.models, Api::GetModelMetadata, spec.as_ref(), started, self.metadata(request.into_inner()))
    }

    async fn classify(
        &self,
        request: Request<ClassificationRequest>,
    ) -> Result<Response<ClassificationResponse>, Status> {
        let (started, spec) = (Instant::now(), request.get_ref().model_spec.clone());
        observed(&self.models, Api::Classify, spec.as_ref(), started, self.classify(request.into_inner()).await)
    }

    async fn regress(&self, request: Request<RegressionRequest>) -> Result<Response<RegressionResponse>, Status> {
        let (started, spec) = (Instant::now(), request.get_ref().model_spec.clone());
        observed(&self.models, Api::Regress, spec.as_ref(), started, self.regress(request.into_inner()).await)
    }

    async fn multi_inference(
        &self,
        _request: Request<MultiInferenceRequest>,
    ) -> Result<Response<MultiInferenceResponse>, Status> {
        respond("MultiInference", Err(Error::Unimplemented { api: "MultiInference", reason: NO_MULTI_INFERENCE }))
    }
}
