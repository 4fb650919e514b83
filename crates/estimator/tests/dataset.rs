//! The input pipeline: batching, repeat, shuffle, map, laziness.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use estimator::{Dataset, Example};
use ndarray::array;
use opset::Tensor;

fn numbers(ds: &Dataset<Tensor>) -> Vec<f32> {
    ds.iter().flat_map(|t| t.unwrap().as_slice::<f32>().unwrap().to_vec()).collect()
}

#[test]
fn batch_repeat_take_map() {
    let ds = Dataset::from_generator(|| (0..5).map(|i| Tensor::scalar(i as f32)));
    let batched: Vec<Tensor> = ds.clone().batch(2).iter().map(Result::unwrap).collect();
    assert_eq!(batched.iter().map(|t| t.shape().to_vec()).collect::<Vec<_>>(), [vec![2], vec![2], vec![1]]);
    assert_eq!(numbers(&ds.clone().repeat(2).take(7)), [0., 1., 2., 3., 4., 0., 1.]);
    let doubled = ds.map(|t| Tensor::scalar(t.as_slice::<f32>().unwrap()[0] * 2.0));
    assert_eq!(numbers(&doubled), [0., 2., 4., 6., 8.]);
}

#[test]
fn shuffle_is_a_seeded_permutation_reshuffled_each_pass() {
    let ds = Dataset::from_generator(|| (0..50).map(|i| Tensor::scalar(i as f32)));
    let a = numbers(&ds.clone().shuffle(10, 7));
    let b = numbers(&ds.clone().shuffle(10, 7));
    assert_eq!(a, b, "same seed, same order");
    assert_ne!(a, (0..50).map(|i| i as f32).collect::<Vec<_>>());
    let mut sorted = a.clone();
    sorted.sort_by(f32::total_cmp);
    assert_eq!(sorted, (0..50).map(|i| i as f32).collect::<Vec<_>>());
    let twice = numbers(&ds.shuffle(10, 7).repeat(2));
    assert_ne!(twice[..50], twice[50..], "each pass reshuffles");
}

#[test]
fn batches_stream_without_materialising_the_data() {
    let produced = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&produced);
    let ds = Dataset::from_generator(move || {
        let counter = Arc::clone(&counter);
        (0..1_000_000).map(move |i| {
            counter.fetch_add(1, Ordering::Relaxed);
            Example::new(array![i as f32], array![0.0f32])
        })
    })
    .batch(10);
    let first = ds.iter().next().unwrap().unwrap();
    assert_eq!(first.labels.unwrap().shape(), &[10, 1]);
    assert_eq!(produced.load(Ordering::Relaxed), 10);
}

#[test]
fn padded_batches_pad_each_batch_to_its_longest() {
    let sentence = |words: &[&str]| {
        let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
        let tags: Vec<i32> = (0..words.len() as i32).collect();
        let mut features = std::collections::BTreeMap::new();
        features.insert("nwords".to_owned(), Tensor::scalar(words.len() as i32));
        features.insert("words".to_owned(), Tensor::strings(vec![words.len()], words).unwrap());
        Example::from_features(
            estimator::Features::Map(features),
            Some(Tensor::from_vec(vec![tags.len()], tags).unwrap()),
        )
    };
    let ds =
        Dataset::from_vec(vec![sentence(&["John", "lives"]), sentence(&["in", "Paris", "now"]), sentence(&["Hi"])]);
    let batches: Vec<Example> = ds.padded_batch(2).iter().map(Result::unwrap).collect();
    let estimator::Features::Map(first) = &batches[0].features else { panic!("a feature map") };
    assert_eq!(first["words"].shape(), &[2, 3]);
    assert_eq!(first["words"].as_slice::<opset::Bytes>().unwrap(), ["John", "lives", "", "in", "Paris", "now"]);
    assert_eq!(first["nwords"].as_slice::<i32>().unwrap(), [2, 3]);
    assert_eq!(batches[0].labels.as_ref().unwrap().as_slice::<i32>().unwrap(), [0, 1, 0, 0, 1, 2]);
    let estimator::Features::Map(last) = &batches[1].features else { panic!("a feature map") };
    assert_eq!(last["words"].shape(), &[1, 1]);
    // Ranks must agree.
    let mixed = Dataset::from_vec(vec![Tensor::scalar(1.0f32), Tensor::from(array![1.0f32, 2.0])]);
    assert!(mixed.padded_batch(2).iter().next().unwrap().is_err());
}
