//! `Einsum` of two operands: an equation such as `abc,cde->abde`, each
//! letter a dim. Parsed and checked once; evaluated as a batched matrix
//! product after sums and transposes.

/// A parsed two-operand equation: the labels of each input and of the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Equation {
    /// The labels of input 0, one per dim.
    pub a: Vec<u8>,
    /// The labels of input 1.
    pub b: Vec<u8>,
    /// The labels of the output.
    pub out: Vec<u8>,
}

impl Equation {
    /// Parses `lhs0,lhs1->out` (ASCII letters; no `...`, no label twice in
    /// one term, every output label in an input).
    ///
    /// # Errors
    /// A message saying what is not supported or malformed.
    pub fn parse(equation: &str) -> Result<Equation, String> {
        let bad = |why: &str| format!("equation {equation:?}: {why}");
        let (inputs, out) = equation.split_once("->").ok_or_else(|| bad("no \"->\""))?;
        let (a, b) = inputs.split_once(',').ok_or_else(|| bad("expected two operands"))?;
        if equation.contains("...") {
            return Err(bad("broadcasting with \"...\" is not supported"));
        }
        let term = |t: &str| -> Result<Vec<u8>, String> {
            let labels: Vec<u8> = t.trim().bytes().collect();
            if labels.iter().any(|l| !l.is_ascii_alphabetic()) {
                return Err(bad("labels must be letters"));
            }
            if labels.iter().enumerate().any(|(i, l)| labels[..i].contains(l)) {
                return Err(bad("a label repeated within one term (a diagonal) is not supported"));
            }
            Ok(labels)
        };
        let (a, b, out) = (term(a)?, term(b)?, term(out)?);
        if out.iter().any(|l| !a.contains(l) && !b.contains(l)) {
            return Err(bad("an output label appears in no input"));
        }
        Ok(Equation { a, b, out })
    }

    /// An equation from its terms' labels (checked by the kernel that runs it).
    pub fn from_labels(a: Vec<u8>, b: Vec<u8>, out: Vec<u8>) -> Equation {
        Equation { a, b, out }
    }

    /// The equation as written.
    pub fn text(&self) -> String {
        let s = |l: &[u8]| String::from_utf8_lossy(l).into_owned();
        format!("{},{}->{}", s(&self.a), s(&self.b), s(&self.out))
    }

    /// The equation of the gradient with respect to input 0 (`out,b->a`),
    /// or `None` if input 0 has a label summed away alone (then the
    /// gradient is a broadcast, not an einsum).
    pub fn gradient_a(&self) -> Option<Equation> {
        self.a.iter().all(|l| self.out.contains(l) || self.b.contains(l)).then(|| Equation {
            a: self.out.clone(),
            b: self.b.clone(),
            out: self.a.clone(),
        })
    }

    /// The equation of the gradient with respect to input 1 (`a,out->b`).
    pub fn gradient_b(&self) -> Option<Equation> {
        self.b.iter().all(|l| self.out.contains(l) || self.a.contains(l)).then(|| Equation {
            a: self.a.clone(),
            b: self.out.clone(),
            out: self.b.clone(),
        })
    }
}
