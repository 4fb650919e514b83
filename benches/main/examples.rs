//! tf.Examples: TensorFlow's DNNClassifier over feature columns exported
//! with the parsing receiver (`tests/fixtures/tensorflow/parsing_dnn_classifier`:
//! a numeric, a bucketized, a vocabulary-list and a hash-bucket column),
//! classifying 32 serialized examples; and the parsing alone, the eight
//! `ParseExample` nodes its `ParseExampleV2` becomes (two dense features,
//! two sparse ones' indices, values and shape).

use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use opset::example::{BytesList, Example, Feature, Features, FloatList, Kind};
use opset::ops::OpDef;
use opset::ops::example::{ExampleOutput, ParseExample};
use opset::{Bytes, DataType, Shape, Tensor};
use predictor::Predictor;
use prost::Message;

const BATCH: usize = 32;

fn examples() -> Tensor {
    let colors = ["red", "green", "blue", "teal"];
    let words = ["alpha", "beta", "gamma", "delta", "eps"];
    let serialized: Vec<Bytes> = (0..BATCH)
        .map(|i| {
            let float = |v: f32| Feature { kind: Some(Kind::FloatList(FloatList { value: vec![v] })) };
            let word =
                |w: &str| Feature { kind: Some(Kind::BytesList(BytesList { value: vec![w.as_bytes().to_vec()] })) };
            let feature: HashMap<String, Feature> = [
                ("x".to_owned(), float(i as f32 / 10.0 - 1.5)),
                ("age".to_owned(), float(18.0 + (i * 7 % 60) as f32)),
                ("color".to_owned(), word(colors[i % 4])),
                ("word".to_owned(), word(words[i % 5])),
            ]
            .into();
            Bytes::from(Example { features: Some(Features { feature }) }.encode_to_vec())
        })
        .collect();
    Tensor::from_vec(vec![BATCH], serialized).unwrap()
}

fn classify_examples(c: &mut Criterion) {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tensorflow/parsing_dnn_classifier");
    let classify = Predictor::from_export_base(&base).unwrap().with_signature("classification").unwrap();
    let inputs = [("inputs", examples())];
    let mut group = c.benchmark_group("classify_examples");
    group.throughput(Throughput::Elements(BATCH as u64));
    let mut outputs = classify.new_outputs();
    group.bench_with_input(BenchmarkId::new("predictor: parse and classify", BATCH), &BATCH, |b, _| {
        b.iter(|| classify.predict_into(black_box(&inputs), &mut outputs).unwrap())
    });
    let dense = |key: &str| ParseExample {
        key: key.into(),
        dtype: DataType::F32,
        output: ExampleOutput::Dense(Shape::known(&[1])),
    };
    let sparse = |key: &str, output| ParseExample { key: key.into(), dtype: DataType::String, output };
    let parts = [
        dense("x"),
        dense("age"),
        sparse("color", ExampleOutput::SparseIndices),
        sparse("color", ExampleOutput::SparseValues),
        sparse("color", ExampleOutput::SparseShape),
        sparse("word", ExampleOutput::SparseIndices),
        sparse("word", ExampleOutput::SparseValues),
        sparse("word", ExampleOutput::SparseShape),
    ];
    let serialized = &inputs[0].1;
    let default = Tensor::from_vec(vec![0], Vec::<f32>::new()).unwrap();
    group.bench_with_input(BenchmarkId::new("ParseExample alone (8 nodes)", BATCH), &BATCH, |b, _| {
        b.iter(|| {
            for op in &parts {
                let args: Vec<&Tensor> = if matches!(op.output, ExampleOutput::Dense(_)) {
                    vec![serialized, &default]
                } else {
                    vec![serialized]
                };
                black_box(op.run(&args).unwrap());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, classify_examples);
