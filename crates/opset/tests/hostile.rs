//! Hostile shapes and values: refused with an error, never a panic, an
//! overflow or an allocation without bound.

use opset::ops::math::{Add, ReduceMean, ReduceSum};
use opset::ops::{MAX_RANK, OpDef, OpError};
use opset::{Shape, Tensor};

#[test]
fn empty_tensors_with_huge_dims_are_refused() {
    // Zero elements, but dims whose products overflow any kernel's arithmetic.
    let err = Tensor::from_vec::<f32>(vec![1 << 31, 1 << 31, 0], vec![]).unwrap_err().to_string();
    assert!(err.contains("more elements than memory can address"), "{err}");
    assert!(Tensor::from_vec::<f32>(vec![3, 0, 5], vec![]).is_ok());
}

#[test]
fn ranks_past_tensorflows_limit_are_refused() {
    assert!(Tensor::from_vec(vec![1; MAX_RANK], vec![1.0f32]).is_ok());
    assert!(Tensor::from_vec(vec![1; MAX_RANK + 1], vec![1.0f32]).is_err());
    // A graph declaring such a tensor is refused at load, by node.
    let placeholder =
        opset::ops::array::Placeholder { dtype: opset::DataType::F32, shape: Shape::known(&[1; MAX_RANK + 1]) };
    let graph = opset::Graph { nodes: vec![opset::Op::from(placeholder).to_node("x", vec![])] };
    let err = opset::TypedGraph::new(&graph, &opset::Assets::new()).unwrap_err().to_string();
    assert!(err.contains("\"x\"") && err.contains("absurd"), "{err}");
}

#[test]
fn a_broadcast_past_the_element_limit_is_refused_before_allocating() {
    let column = Tensor::from_vec(vec![1 << 20, 1], vec![1.0f32; 1 << 20]).unwrap();
    let row = Tensor::from_vec(vec![1, 1 << 20], vec![1.0f32; 1 << 20]).unwrap();
    let err = Add.run(&[&column, &row]).unwrap_err();
    assert!(matches!(err, OpError::TooLarge { .. }), "{err}");
}

#[test]
fn integer_sums_wrap_as_tensorflows_kernels_do() {
    let x = Tensor::from_vec(vec![2], vec![i64::MAX, 1]).unwrap();
    let sum = ReduceSum { axes: vec![0], keep_dims: false }.run(&[&x]).unwrap();
    assert_eq!(sum.as_slice::<i64>().unwrap(), &[i64::MIN]);
}

#[test]
fn a_reduction_over_an_axis_twice_is_refused() {
    let x = Tensor::from_vec(vec![2], vec![1.0f32, 3.0]).unwrap();
    let err = ReduceMean { axes: vec![0, 0], keep_dims: false }.run(&[&x]).unwrap_err().to_string();
    assert!(err.contains("appears twice"), "{err}");
}
