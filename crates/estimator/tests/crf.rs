//! The CRF's likelihood and Viterbi decoding against brute-force
//! enumeration of every tag path, and its gradients against finite
//! differences.

use estimator::{GraphBuilder, Output, crf, gradients};
use opset::{DataType, Shape, Tensor, TypedGraph};

const TAGS: usize = 3;

/// Seeded values in [-1.5, 1.5).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 3000) as f32 / 1000.0 - 1.5
        })
        .collect()
}

/// A batch: lengths 4, 2, 1 and 0, padded to 4 steps, tags junk past each length.
struct Case {
    unary: Vec<f32>,
    transitions: Vec<f32>,
    tags: Vec<i32>,
    lengths: Vec<i32>,
}

const STEPS: usize = 4;

fn case(seed: u64) -> Case {
    let lengths = vec![4, 2, 1, 0];
    let tags = (0..lengths.len() * STEPS).map(|k| ((k * 7 + seed as usize) % TAGS) as i32).collect();
    Case {
        unary: values(lengths.len() * STEPS * TAGS, seed),
        transitions: values(TAGS * TAGS, seed + 100),
        tags,
        lengths,
    }
}

/// Every path of `len` tags.
fn paths(len: usize) -> Vec<Vec<usize>> {
    (0..TAGS.pow(len as u32))
        .map(|mut k| {
            (0..len)
                .map(|_| {
                    let t = k % TAGS;
                    k /= TAGS;
                    t
                })
                .collect()
        })
        .collect()
}

fn path_score(c: &Case, row: usize, path: &[usize]) -> f64 {
    let u = |t: usize, tag: usize| f64::from(c.unary[(row * STEPS + t) * TAGS + tag]);
    let unary: f64 = path.iter().enumerate().map(|(t, &tag)| u(t, tag)).sum();
    let binary: f64 = path.windows(2).map(|w| f64::from(c.transitions[w[0] * TAGS + w[1]])).sum();
    unary + binary
}

struct Graph {
    graph: TypedGraph,
    values: Vec<Option<Tensor>>,
    unary: Output,
    transitions: Output,
}

/// Builds `f` over the case's inputs (unary and transitions as variables),
/// evaluates `targets`.
fn run(c: &Case, f: impl FnOnce(&mut GraphBuilder, [Output; 4]) -> Vec<Output>) -> (Graph, Vec<Output>) {
    let mut g = GraphBuilder::new();
    let batch = c.lengths.len();
    let unary = g.variable("unary", &[batch, STEPS, TAGS], estimator::Initializer::Zeros).unwrap();
    let tags = g.placeholder("tags", DataType::I32, Shape(vec![None, None])).unwrap();
    let lengths = g.placeholder("lengths", DataType::I32, Shape(vec![None])).unwrap();
    let transitions = crf::transitions(&mut g, TAGS).unwrap();
    let targets = f(&mut g, [unary, tags, lengths, transitions]);
    let graph = TypedGraph::new(&g.graph(), g.assets()).unwrap();
    let mut values = vec![None; graph.nodes().len()];
    values[unary.index()] = Some(Tensor::from_vec(vec![batch, STEPS, TAGS], c.unary.clone()).unwrap());
    values[transitions.index()] = Some(Tensor::from_vec(vec![TAGS, TAGS], c.transitions.clone()).unwrap());
    values[tags.index()] = Some(Tensor::from_vec(vec![batch, STEPS], c.tags.clone()).unwrap());
    values[lengths.index()] = Some(Tensor::from_vec(vec![batch], c.lengths.clone()).unwrap());
    let indices: Vec<usize> = targets.iter().map(|t| t.index()).collect();
    graph.evaluate(&indices, &mut values).unwrap();
    (Graph { graph, values, unary, transitions }, targets)
}

fn f32s(g: &Graph, o: Output) -> Vec<f32> {
    g.values[o.index()].as_ref().unwrap().as_slice::<f32>().unwrap().to_vec()
}

#[test]
fn the_likelihood_is_the_paths_share_of_all_paths() {
    for seed in [1, 2, 3] {
        let c = case(seed);
        let (g, out) = run(&c, |g, [u, tags, lengths, tr]| {
            vec![
                crf::log_likelihood(g, u, tags, lengths, tr).unwrap(),
                crf::sequence_score(g, u, tags, lengths, tr).unwrap(),
                crf::log_norm(g, u, lengths, tr).unwrap(),
            ]
        });
        let (ll, score, norm) = (f32s(&g, out[0]), f32s(&g, out[1]), f32s(&g, out[2]));
        for (row, &len) in c.lengths.iter().enumerate() {
            let len = len as usize;
            let tags: Vec<usize> = (0..len).map(|t| c.tags[row * STEPS + t] as usize).collect();
            let expected_score = path_score(&c, row, &tags);
            let expected_norm =
                if len == 0 { 0.0 } else { paths(len).iter().map(|p| path_score(&c, row, p).exp()).sum::<f64>().ln() };
            let close = |a: f32, b: f64| (f64::from(a) - b).abs() < 1e-4 * (1.0 + b.abs());
            assert!(close(score[row], expected_score), "row {row}: score {} vs {expected_score}", score[row]);
            assert!(close(norm[row], expected_norm), "row {row}: log norm {} vs {expected_norm}", norm[row]);
            assert!(close(ll[row], expected_score - expected_norm), "row {row}: log-likelihood {}", ll[row]);
        }
    }
}

#[test]
fn viterbi_finds_the_best_path() {
    for seed in [1, 2, 3, 4, 5] {
        let c = case(seed);
        let (g, out) = run(&c, |g, [u, _, lengths, tr]| {
            let d = crf::decode(g, u, lengths, tr).unwrap();
            vec![d.tags, d.score]
        });
        let tags = g.values[out[0].index()].as_ref().unwrap().as_slice::<i32>().unwrap().to_vec();
        let score = f32s(&g, out[1]);
        for (row, &len) in c.lengths.iter().enumerate() {
            // A length of 0 decodes as a length of 1, as crf_decode does.
            let len = (len as usize).max(1);
            let (best, best_score) = paths(len)
                .into_iter()
                .map(|p| {
                    let s = path_score(&c, row, &p);
                    (p, s)
                })
                .fold((Vec::new(), f64::NEG_INFINITY), |acc, (p, s)| if s > acc.1 { (p, s) } else { acc });
            let got: Vec<usize> = tags[row * STEPS..row * STEPS + len].iter().map(|&t| t as usize).collect();
            assert_eq!(got, best, "row {row}, seed {seed}");
            assert!(tags[row * STEPS + len..(row + 1) * STEPS].iter().all(|&t| t == 0), "0 past the length");
            assert!((f64::from(score[row]) - best_score).abs() < 1e-4, "row {row}: {} vs {best_score}", score[row]);
        }
    }
}

#[test]
fn the_likelihood_gradients_match_finite_differences() {
    let c = case(7);
    let build = |g: &mut GraphBuilder, [u, tags, lengths, tr]: [Output; 4]| {
        let ll = crf::log_likelihood(g, u, tags, lengths, tr).unwrap();
        vec![g.reduce_sum(ll, &[], false).unwrap()]
    };
    let (g, out) = run(&c, build);
    let grads = gradients(&g.graph, &g.values, out[0].index(), &[g.unary.index(), g.transitions.index()]).unwrap();
    let total = |c: &Case| f64::from(f32s(&run(c, build).0, out[0])[0]);
    let eps = 1e-2f32;
    for (k, grad) in grads.iter().enumerate() {
        let analytic = grad.as_slice::<f32>().unwrap();
        for (i, &a) in analytic.iter().enumerate() {
            let bumped = |delta: f32| {
                let mut c = case(7);
                let v = if k == 0 { &mut c.unary } else { &mut c.transitions };
                v[i] += delta;
                total(&c)
            };
            let numeric = ((bumped(eps) - bumped(-eps)) / (2.0 * f64::from(eps))) as f32;
            assert!((a - numeric).abs() < 2e-2 * (1.0 + numeric.abs()), "input {k}[{i}]: {a} vs {numeric}");
        }
    }
    // Past a length, the unary scores do not matter.
    let du = grads[0].as_slice::<f32>().unwrap();
    assert!(du[(STEPS + 2) * TAGS..2 * STEPS * TAGS].iter().all(|&d| d == 0.0));
    assert!(du[3 * STEPS * TAGS..].iter().all(|&d| d == 0.0), "an empty sequence has no gradient");
}
