//! `ReduceProd`.

use super::reduce::{Reduction, reduction_op};

/// The product of the elements of a numeric tensor `x` over `axes`
/// (TensorFlow's `Prod`): how graphs compute element counts from run-time
/// shapes (a sparse reshape's new dims, an embedding column's batch).
///
/// Attributes: `axes` (ints, negative from the end; empty: all) and
/// `keep_dims` (bool, optional: keep the reduced dims as 1). The output has
/// x's dtype; integers wrap around on overflow, as TensorFlow's kernel; the
/// product over no element is 1.
///
/// Gradient: not implemented (an error if training reaches it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReduceProd {
    /// The axes reduced; empty: all.
    pub axes: Vec<i64>,
    /// Whether the reduced dims stay, as 1.
    pub keep_dims: bool,
}

reduction_op!(ReduceProd, "ReduceProd", Reduction::Prod, 7);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Op, OpDef};
    use crate::{Assets, Tensor};
    use ndarray::{Array2, array};

    #[test]
    fn multiplies_over_the_axes_and_is_one_over_nothing() {
        // tf.reduce_prod([[2, 3], [4, 5]], axis=1) == [6, 20]; over axis 0 == [8, 15].
        let x = Tensor::from(array![[2i64, 3], [4, 5]]);
        assert_eq!(ReduceProd { axes: vec![1], keep_dims: false }.run(&[&x]).unwrap(), Tensor::from(array![6i64, 20]));
        assert_eq!(ReduceProd { axes: vec![0], keep_dims: true }.run(&[&x]).unwrap(), Tensor::from(array![[8i64, 15]]));
        let empty = Tensor::from(Array2::<f32>::zeros((2, 0)));
        assert_eq!(
            ReduceProd { axes: vec![1], keep_dims: false }.run(&[&empty]).unwrap(),
            Tensor::from(array![1.0f32, 1.0])
        );
        let wraps = Tensor::from(array![i32::MAX, 2]);
        assert_eq!(ReduceProd::default().run(&[&wraps]).unwrap(), Tensor::scalar(-2i32));
    }

    #[test]
    fn attributes_round_trip() {
        let op = ReduceProd { axes: vec![-1], keep_dims: true };
        let node = Op::from(op.clone()).to_node("p", vec!["x".into()]);
        assert_eq!(ReduceProd::parse(&node, &Assets::new()).unwrap(), op);
    }
}
