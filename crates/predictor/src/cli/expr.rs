//! `run --input_exprs`: the Python expressions TensorFlow's tool accepts,
//! for the forms one writes there: literals (`[[1.0, 2.0]]`, `3`, `True`,
//! `'text'`, `nan`, `inf`, `np.nan`, `np.inf`), `np.array(...)` /
//! `np.asarray(...)`, `np.ones(shape)`, `np.zeros(shape)`,
//! `np.full(shape, value)` and `np.arange(...)` (`dtype=` accepted: the
//! input's dtype decides, as TensorFlow's feed casts). Parsed, never
//! evaluated: nothing else of Python runs.

use crate::{DataType, Tensor};

/// A parsed value: a scalar, or a list (or tuple) of values.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Num(f64),
    /// An integer literal (only in `--input_examples`, where it makes an
    /// int64 list rather than a float one).
    Int(i64),
    Bool(bool),
    Str(String),
    List(Vec<Value>),
    /// `{key: value, ...}` (only in `--input_examples`).
    Dict(Vec<(String, Value)>),
}

/// The most elements an expression may make (`np.ones((10**9,))` is refused).
const MAX_ELEMENTS: usize = 1 << 22;

/// The tensor of `dtype` that `text` denotes.
///
/// # Errors
/// What is wrong, with the position in `text` for a syntax error.
pub(super) fn tensor(text: &str, dtype: DataType) -> Result<Tensor, String> {
    let value = parse(text, false)?;
    let mut shape = Vec::new();
    dims(&value, &mut shape);
    let mut flat = Vec::new();
    flatten(&value, &shape, 0, &mut flat)?;
    let fail = |e: opset::Error| e.to_string();
    let int = |v: &Value| match v {
        Value::Num(x) if x.fract() == 0.0 && x.is_finite() => Ok(*x),
        Value::Bool(b) => Ok(f64::from(u8::from(*b))),
        other => Err(format!("{other:?} is not an integer")),
    };
    match dtype {
        DataType::F32 => {
            let v: Result<Vec<f32>, String> = flat
                .iter()
                .map(|v| match v {
                    Value::Num(x) => Ok(*x as f32),
                    Value::Bool(b) => Ok(f32::from(u8::from(*b))),
                    other => Err(format!("{other:?} is not a number")),
                })
                .collect();
            Tensor::from_vec(shape, v?).map_err(fail)
        }
        DataType::I64 => {
            let v: Result<Vec<i64>, String> =
                flat.iter().map(|v| int(v).and_then(|x| in_range(x, i64::MIN as f64, i64::MAX as f64))).collect();
            Tensor::from_vec(shape, v?).map_err(fail)
        }
        DataType::I32 => {
            let v: Result<Vec<i32>, String> = flat
                .iter()
                .map(|v| int(v).and_then(|x| in_range(x, f64::from(i32::MIN), f64::from(i32::MAX)).map(|x| x as i32)))
                .collect();
            Tensor::from_vec(shape, v?).map_err(fail)
        }
        DataType::Bool => {
            let v: Result<Vec<bool>, String> = flat
                .iter()
                .map(|v| match v {
                    Value::Bool(b) => Ok(*b),
                    other => Err(format!("{other:?} is not a bool")),
                })
                .collect();
            Tensor::from_vec(shape, v?).map_err(fail)
        }
        DataType::String => {
            let v: Result<Vec<opset::Bytes>, String> = flat
                .iter()
                .map(|v| match v {
                    Value::Str(s) => Ok(opset::Bytes::copy_from_slice(s.as_bytes())),
                    other => Err(format!("{other:?} is not a string")),
                })
                .collect();
            Tensor::from_vec(shape, v?).map_err(fail)
        }
    }
}

fn in_range(x: f64, lo: f64, hi: f64) -> Result<i64, String> {
    if x < lo || x > hi { Err(format!("{x} is out of range")) } else { Ok(x as i64) }
}

/// The dims of `v`, from its first elements (checked by [`flatten`]).
fn dims(v: &Value, shape: &mut Vec<usize>) {
    if let Value::List(items) = v {
        shape.push(items.len());
        if let Some(first) = items.first() {
            dims(first, shape);
        }
    }
}

/// The scalars of `v`, row-major, checking every list has the dims of `shape`.
fn flatten<'v>(v: &'v Value, shape: &[usize], depth: usize, out: &mut Vec<&'v Value>) -> Result<(), String> {
    match (v, shape.get(depth)) {
        (Value::List(items), Some(&n)) if items.len() == n => {
            items.iter().try_for_each(|item| flatten(item, shape, depth + 1, out))
        }
        (Value::List(_), _) | (_, Some(_)) => Err(format!("ragged: not every list has the dims {shape:?}")),
        (scalar, None) => {
            out.push(scalar);
            Ok(())
        }
    }
}

/// The whole of `text` as one value; `examples` reads dicts and integer
/// literals (`--input_examples`).
fn parse(text: &str, examples: bool) -> Result<Value, String> {
    let mut p = Parser { text: text.as_bytes(), at: 0, examples };
    let value = p.expr()?;
    p.space();
    if p.at != p.text.len() {
        return Err(p.error("unexpected text after the expression"));
    }
    Ok(value)
}

/// The serialized `tf.Example`s that `text` denotes, as TensorFlow's
/// `saved_model_cli --input_examples` builds them: a list of dicts of
/// feature name to a list of values, floats making a float list, integers
/// an int64 list, strings a bytes list (the first value decides).
///
/// # Errors
/// What is wrong, naming the example and feature.
pub(super) fn examples(text: &str) -> Result<Tensor, String> {
    use opset::example::{BytesList, Example, Feature, Features, FloatList, Int64List, Kind};
    use prost::Message;

    let Value::List(items) = parse(text, true)? else {
        return Err("expected a list of examples: [{'feature': [values]}, ...]".into());
    };
    let mut serialized = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::Dict(features) = item else {
            return Err(format!("example {i} is not a dict of features: {item:?}"));
        };
        let mut feature = std::collections::HashMap::new();
        for (name, values) in features {
            let Value::List(values) = values else {
                return Err(format!("feature value must be a list, but {name}: {values:?} is not"));
            };
            let mismatch = |v: &Value| format!("example {i}, feature {name}: {v:?} is not like the first value");
            let kind = match values.first() {
                Some(Value::Num(_)) => Kind::FloatList(FloatList {
                    value: values
                        .iter()
                        .map(|v| match v {
                            Value::Num(x) => Ok(*x as f32),
                            Value::Int(x) => Ok(*x as f32),
                            other => Err(mismatch(other)),
                        })
                        .collect::<Result<_, _>>()?,
                }),
                Some(Value::Int(_)) => Kind::Int64List(Int64List {
                    value: values
                        .iter()
                        .map(|v| if let Value::Int(x) = v { Ok(*x) } else { Err(mismatch(v)) })
                        .collect::<Result<_, _>>()?,
                }),
                Some(Value::Str(_)) => Kind::BytesList(BytesList {
                    value: values
                        .iter()
                        .map(|v| if let Value::Str(s) = v { Ok(s.clone().into_bytes()) } else { Err(mismatch(v)) })
                        .collect::<Result<_, _>>()?,
                }),
                Some(other) => return Err(format!("Type of {other:?} is not supported for tf.train.Feature")),
                None => return Err(format!("example {i}, feature {name}: an empty list has no type")),
            };
            feature.insert(name.clone(), Feature { kind: Some(kind) });
        }
        let example = Example { features: Some(Features { feature }) };
        serialized.push(opset::Bytes::from(example.encode_to_vec()));
    }
    Tensor::from_vec(vec![serialized.len()], serialized).map_err(|e| e.to_string())
}

struct Parser<'t> {
    text: &'t [u8],
    at: usize,
    /// `--input_examples`: dicts and integer literals.
    examples: bool,
}

/// How deep lists may nest (a hostile expression must not overflow the stack).
const MAX_DEPTH: usize = 64;

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        format!("{what} at character {} of {:?}", self.at + 1, String::from_utf8_lossy(self.text))
    }

    fn space(&mut self) {
        while self.text.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.space();
        let found = self.text.get(self.at) == Some(&c);
        self.at += usize::from(found);
        found
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) { Ok(()) } else { Err(self.error(&format!("expected '{}'", c as char))) }
    }

    fn ident(&mut self) -> String {
        self.space();
        let start = self.at;
        while self.text.get(self.at).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.') {
            self.at += 1;
        }
        String::from_utf8_lossy(&self.text[start..self.at]).into_owned()
    }

    fn expr(&mut self) -> Result<Value, String> {
        self.value(0)
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(self.error("lists nested too deep"));
        }
        self.space();
        match self.text.get(self.at) {
            Some(b'[') | Some(b'(') => {
                let close = if self.text[self.at] == b'[' { b']' } else { b')' };
                self.at += 1;
                let mut items = Vec::new();
                while !self.eat(close) {
                    items.push(self.value(depth + 1)?);
                    if !self.eat(b',') {
                        self.expect(close)?;
                        break;
                    }
                }
                Ok(Value::List(items))
            }
            Some(b'{') if self.examples => {
                self.at += 1;
                let mut entries = Vec::new();
                while !self.eat(b'}') {
                    self.space();
                    if !matches!(self.text.get(self.at), Some(b'\'' | b'"')) {
                        return Err(self.error("expected a quoted feature name"));
                    }
                    let Value::Str(key) = self.string()? else { return Err(self.error("expected a feature name")) };
                    self.expect(b':')?;
                    entries.push((key, self.value(depth + 1)?));
                    if !self.eat(b',') {
                        self.expect(b'}')?;
                        break;
                    }
                }
                Ok(Value::Dict(entries))
            }
            Some(b'\'') | Some(b'"') => self.string(),
            Some(b'-') | Some(b'+') => {
                let negative = self.text[self.at] == b'-';
                self.at += 1;
                match self.value(depth + 1)? {
                    Value::Num(x) => Ok(Value::Num(if negative { -x } else { x })),
                    Value::Int(x) => Ok(Value::Int(if negative { x.wrapping_neg() } else { x })),
                    _ => Err(self.error("a sign before something that is not a number")),
                }
            }
            Some(c) if c.is_ascii_digit() || *c == b'.' => self.number(),
            Some(_) => {
                let name = self.ident();
                match name.as_str() {
                    "True" | "true" => Ok(Value::Bool(true)),
                    "False" | "false" => Ok(Value::Bool(false)),
                    "nan" | "np.nan" | "numpy.nan" | "NaN" => Ok(Value::Num(f64::NAN)),
                    "inf" | "np.inf" | "numpy.inf" | "Infinity" => Ok(Value::Num(f64::INFINITY)),
                    "" => Err(self.error("expected a value")),
                    call => self.call(call.strip_prefix("np.").or_else(|| call.strip_prefix("numpy.")).unwrap_or(call)),
                }
            }
            None => Err(self.error("expected a value")),
        }
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.at;
        while self.text.get(self.at).is_some_and(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'_'))
            || (self.at > start
                && matches!(self.text.get(self.at), Some(b'-' | b'+'))
                && matches!(self.text[self.at - 1], b'e' | b'E'))
        {
            self.at += 1;
        }
        let text = String::from_utf8_lossy(&self.text[start..self.at]).replace('_', "");
        if self.examples
            && let Ok(int) = text.parse::<i64>()
        {
            return Ok(Value::Int(int));
        }
        text.parse::<f64>().map(Value::Num).map_err(|_| self.error(&format!("{text:?} is not a number")))
    }

    fn string(&mut self) -> Result<Value, String> {
        let quote = self.text[self.at];
        self.at += 1;
        let mut out = Vec::new();
        loop {
            match self.text.get(self.at) {
                None => return Err(self.error("unterminated string")),
                Some(&c) if c == quote => {
                    self.at += 1;
                    break;
                }
                Some(b'\\') => {
                    let escaped = *self.text.get(self.at + 1).ok_or_else(|| self.error("unterminated string"))?;
                    out.push(match escaped {
                        b'n' => b'\n',
                        b't' => b'\t',
                        c => c,
                    });
                    self.at += 2;
                }
                Some(&c) => {
                    out.push(c);
                    self.at += 1;
                }
            }
        }
        String::from_utf8(out).map(Value::Str).map_err(|_| self.error("a string that is not UTF-8"))
    }

    /// `name(args...)`, keyword arguments (`dtype=...`) skipped.
    fn call(&mut self, name: &str) -> Result<Value, String> {
        self.expect(b'(')?;
        let mut args = Vec::new();
        while !self.eat(b')') {
            let save = self.at;
            let key = self.ident();
            if !key.is_empty() && self.eat(b'=') {
                // A keyword (`dtype=np.float32`): read and ignored.
                let _ = self.ident();
                let _ = self.eat(b'(') && self.eat(b')');
            } else {
                self.at = save;
                args.push(self.value(1)?);
            }
            if !self.eat(b',') {
                self.expect(b')')?;
                break;
            }
        }
        let shape = |v: &Value| -> Result<Vec<usize>, String> {
            let dims = match v {
                Value::List(items) => items.clone(),
                scalar => vec![scalar.clone()],
            };
            let dims: Result<Vec<usize>, String> = dims
                .iter()
                .map(|d| match d {
                    Value::Num(x) if x.fract() == 0.0 && *x >= 0.0 && *x <= MAX_ELEMENTS as f64 => Ok(*x as usize),
                    other => Err(format!("{other:?} is not a dimension")),
                })
                .collect();
            let dims = dims?;
            if dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).is_none_or(|n| n > MAX_ELEMENTS) {
                return Err(format!("shape {dims:?} has more than {MAX_ELEMENTS} elements"));
            }
            Ok(dims)
        };
        match (name, args.as_slice()) {
            ("array" | "asarray", [v]) => Ok(v.clone()),
            ("ones", [s]) => Ok(filled(&shape(s)?, &Value::Num(1.0))),
            ("zeros", [s]) => Ok(filled(&shape(s)?, &Value::Num(0.0))),
            ("full", [s, v]) => Ok(filled(&shape(s)?, v)),
            ("arange", bounds @ ([_] | [_, _] | [_, _, _])) => {
                let n: Vec<f64> = bounds
                    .iter()
                    .map(|b| match b {
                        Value::Num(x) => Ok(*x),
                        other => Err(format!("{other:?} is not a number")),
                    })
                    .collect::<Result<_, String>>()?;
                let (start, stop, step) = match *n.as_slice() {
                    [stop] => (0.0, stop, 1.0),
                    [start, stop] => (start, stop, 1.0),
                    [start, stop, step] => (start, stop, step),
                    _ => return Err(self.error("np.arange takes one to three bounds")),
                };
                let count = ((stop - start) / step).ceil();
                if step == 0.0 || !count.is_finite() || count > MAX_ELEMENTS as f64 {
                    return Err(format!("np.arange({start}, {stop}, {step}) is empty or too long"));
                }
                Ok(Value::List((0..count.max(0.0) as usize).map(|i| Value::Num(start + i as f64 * step)).collect()))
            }
            _ => Err(self.error(&format!(
                "np.{name} with {} arguments is not one of the forms read here (np.array, np.asarray, np.ones, np.zeros, np.full, np.arange, literals)",
                args.len()
            ))),
        }
    }
}

/// `value` repeated to `shape`.
fn filled(shape: &[usize], value: &Value) -> Value {
    match shape.split_first() {
        None => value.clone(),
        Some((&n, rest)) => Value::List(vec![filled(rest, value); n]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32s(text: &str) -> (Vec<usize>, Vec<f32>) {
        let t = tensor(text, DataType::F32).unwrap();
        (t.shape().to_vec(), t.as_slice::<f32>().unwrap().to_vec())
    }

    #[test]
    fn reads_the_forms_tensorflow_users_write() {
        assert_eq!(f32s("[[1.0, 2], [3, 4.5]]"), (vec![2, 2], vec![1.0, 2.0, 3.0, 4.5]));
        assert_eq!(f32s("np.ones((2, 1))"), (vec![2, 1], vec![1.0, 1.0]));
        assert_eq!(f32s("np.zeros([3], dtype=np.float32)"), (vec![3], vec![0.0; 3]));
        assert_eq!(f32s("np.array([[-1.5e3]])"), (vec![1, 1], vec![-1500.0]));
        assert_eq!(f32s("np.full((1, 2), 7)"), (vec![1, 2], vec![7.0, 7.0]));
        assert_eq!(f32s("np.arange(3)"), (vec![3], vec![0.0, 1.0, 2.0]));
        assert_eq!(f32s("3"), (vec![], vec![3.0]));
        let (_, v) = f32s("[nan, np.inf, -inf]");
        assert!(v[0].is_nan() && v[1] == f32::INFINITY && v[2] == f32::NEG_INFINITY);
        let t = tensor("[[1, 2]]", DataType::I64).unwrap();
        assert_eq!(t.as_slice::<i64>().unwrap(), [1, 2]);
        let t = tensor("[True, False]", DataType::Bool).unwrap();
        assert_eq!(t.as_slice::<bool>().unwrap(), [true, false]);
        let t = tensor(r#"[['a', "b\n"]]"#, DataType::String).unwrap();
        assert_eq!(t.as_slice::<opset::Bytes>().unwrap(), ["a", "b\n"]);
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for (text, dtype, expected) in [
            ("[[1.0], [2.0, 3.0]]", DataType::F32, "ragged"),
            ("[1.5]", DataType::I64, "not an integer"),
            ("[3000000000]", DataType::I32, "out of range"),
            ("np.linalg.inv([[1]])", DataType::F32, "not one of the forms"),
            ("[1, 2", DataType::F32, "expected"),
            ("np.ones((100000, 100000))", DataType::F32, "more than"),
            ("__import__('os')", DataType::F32, "not one of the forms"),
            ("[1] junk", DataType::F32, "unexpected text"),
        ] {
            let err = tensor(text, dtype).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
        let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        assert!(tensor(&deep, DataType::F32).unwrap_err().contains("too deep"));
    }
}
