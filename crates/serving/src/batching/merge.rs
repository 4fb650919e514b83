//! One batch's call: the requests' inputs merged row-wise into one set of
//! inputs, and the call's outputs split back into each request's rows, as
//! TensorFlow Serving's `BatchingSession` merges and splits them.

use predictor::{Outputs, Tensor};

use super::parameters::BatchingParameters;

/// One request's inputs, sorted by key, and its rows.
pub(super) type Request<'a> = (&'a [(String, Tensor)], usize);

/// The inputs of one call for `tasks` (all with the same keys, sorted):
/// each input's rows concatenated in task order, each padded first to the
/// batch's largest dims with `pad_variable_length_inputs`, then padded to
/// the allowed batch size with copies of the last task's first row. Also
/// returns the rows the call runs (padding included).
///
/// # Errors
/// The tensor library's, should inputs that shared a queue not concatenate
/// (they were checked against the signature before they queued).
pub(super) fn merge(
    tasks: &[Request<'_>],
    params: &BatchingParameters,
) -> Result<(Vec<(String, Tensor)>, usize), predictor::OpsetError> {
    let Some((first, _)) = tasks.first() else { return Ok((Vec::new(), 0)) };
    let rows: usize = tasks.iter().map(|(_, rows)| rows).sum();
    let padded_rows = params.padded_size(rows);
    let mut merged = Vec::with_capacity(first.len());
    for (i, (key, _)) in first.iter().enumerate() {
        let parts: Vec<&Tensor> = tasks.iter().filter_map(|(inputs, _)| inputs.get(i).map(|(_, x)| x)).collect();
        let mut owned: Vec<Tensor> = Vec::new();
        if params.pad_variable_length_inputs {
            let largest = largest_inner_dims(&parts);
            for part in &parts {
                owned.push(if inner(part) == largest { (*part).clone() } else { part.pad_rows_to(&largest)? });
            }
        }
        let mut all: Vec<&Tensor> = if owned.is_empty() { parts } else { owned.iter().collect() };
        let padding = match all.last() {
            Some(last) if padded_rows > rows => Some(last.rows(0..1)?),
            _ => None,
        };
        if let Some(row) = &padding {
            all.extend(std::iter::repeat_n(row, padded_rows - rows));
        }
        merged.push((key.clone(), Tensor::concat_rows(&all)?));
    }
    Ok((merged, padded_rows))
}

/// The largest of each dim after the first, over `parts` (all of one rank).
fn largest_inner_dims(parts: &[&Tensor]) -> Vec<usize> {
    let mut largest: Vec<usize> = parts.first().map(|t| inner(t).to_vec()).unwrap_or_default();
    for part in parts {
        for (l, &d) in largest.iter_mut().zip(inner(part)) {
            *l = (*l).max(d);
        }
    }
    largest
}

/// The dims of a row of `t`.
fn inner(t: &Tensor) -> &[usize] {
    t.shape().get(1..).unwrap_or_default()
}

/// Each task's rows of `outputs` (`rows` a task, in order); `None` when an
/// output does not have the call's `padded_rows` as its first dim (a
/// signature with an output that is not per row cannot be split back).
pub(super) fn split(outputs: &Outputs, rows: &[usize], padded_rows: usize) -> Option<Vec<Outputs>> {
    if outputs.iter().any(|(_, t)| t.shape().first() != Some(&padded_rows)) {
        return None;
    }
    let mut start = 0;
    let mut each = Vec::with_capacity(rows.len());
    for &n in rows {
        let range = start..start + n;
        each.push(outputs.try_map(|_, t| t.rows(range.clone())).ok()?);
        start = range.end;
    }
    Some(each)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn words(rows: &[&[&str]]) -> Tensor {
        let width = rows.first().map_or(0, |r| r.len());
        Tensor::strings(vec![rows.len(), width], rows.iter().flat_map(|r| r.iter())).unwrap()
    }

    fn request(rows: &[&[&str]], ids: &[i32]) -> Vec<(String, Tensor)> {
        vec![
            ("ids".to_owned(), Tensor::from_vec(vec![ids.len()], ids.to_vec()).unwrap()),
            ("words".to_owned(), words(rows)),
        ]
    }

    #[test]
    fn requests_merge_in_order_padded_to_the_allowed_size_with_the_last_ones_first_row() {
        let params = BatchingParameters {
            max_batch_size: 4,
            allowed_batch_sizes: vec![2, 4],
            pad_variable_length_inputs: true,
            ..BatchingParameters::default()
        };
        let a = request(&[&["a", "b", "c"]], &[1]);
        let b = request(&[&["d"], &["e"]], &[2, 3]);
        let (merged, rows) = merge(&[(&a, 1), (&b, 2)], &params).unwrap();
        assert_eq!(rows, 4);
        assert_eq!(merged[0].1, Tensor::from_vec(vec![4], vec![1, 2, 3, 2]).unwrap());
        // b's words padded to 3 with its first word, then b's first row again.
        let expected = words(&[&["a", "b", "c"], &["d", "d", "d"], &["e", "d", "d"], &["d", "d", "d"]]);
        assert_eq!(merged[1].1, expected);
    }

    #[test]
    fn outputs_split_back_into_each_requests_rows_and_the_padding_is_dropped() {
        let rows = &[1, 2];
        let merged = Tensor::from_vec(vec![4, 2], (0..8).collect::<Vec<i32>>()).unwrap();
        let outputs = predictor::Outputs::from_vec(vec![("y".to_owned(), merged)]);
        let each = split(&outputs, rows, 4).unwrap();
        assert_eq!(each[0]["y"], Tensor::from_vec(vec![1, 2], vec![0, 1]).unwrap());
        assert_eq!(each[1]["y"], Tensor::from_vec(vec![2, 2], vec![2, 3, 4, 5]).unwrap());
        let scalar = predictor::Outputs::from_vec(vec![("step".to_owned(), Tensor::scalar(7i64))]);
        assert!(split(&scalar, rows, 4).is_none());
    }
}
