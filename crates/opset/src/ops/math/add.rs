//! `Add`.

use super::{BinaryFn, binary_op};
use crate::ops::kernel::Num;
#[cfg(feature = "grad")]
use crate::{Tensor, ops::OpError};

/// `a + b`, elementwise over two numeric tensors of one dtype, broadcasting.
///
/// Gradient: `g` to both inputs, summed over the dims each was broadcast along.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Add;

impl BinaryFn for Add {
    const NAME: &'static str = "Add";
    const SINCE: u32 = 1;

    fn apply<T: Num>(a: T, b: T) -> T {
        Num::add(a, b)
    }

    #[cfg(feature = "grad")]
    fn grad(_a: &Tensor, _b: &Tensor, _y: &Tensor, g: &Tensor) -> Result<(Tensor, Tensor), OpError> {
        Ok((g.clone(), g.clone()))
    }
}

binary_op!(Add);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use ndarray::array;

    #[test]
    fn broadcasts_a_row() {
        let y = Add.run(&[&Tensor::from(array![[1i64, 2], [3, 4]]), &Tensor::from(array![10i64, 20])]).unwrap();
        assert_eq!(y.as_slice::<i64>().unwrap(), &[11, 22, 13, 24]);
    }
}
