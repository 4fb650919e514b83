//! The "Concrete Functions" section of TensorFlow's `saved_model_cli show
//! --all`, from the object graph of `saved_model.pb`: the functions the
//! root object holds (sorted by name), each concrete function's input
//! signature (sorted by function name) printed as TensorFlow prints the
//! Python values it decodes from their `StructuredValue`s (TensorFlow
//! 2.15's `_show_defined_functions` and `_print_args`, quirks included:
//! a list's value closes with two backspaces).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use crate::pb;
use crate::pb::attr_value::Value as AttrV;
use crate::pb::structured_value::Kind;

/// A Python value of a signature, as TensorFlow decodes it.
enum Py {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Tuple(Vec<Py>),
    List(Vec<Py>),
    Dict(Vec<(String, Py)>),
    Spec { name: Option<String>, shape: Option<Vec<Option<i64>>>, dtype: i32 },
    Shape(Option<Vec<Option<i64>>>),
    DType(i32),
}

/// The section, or `None` when no meta graph has an object graph (TensorFlow
/// 1 exports), as TensorFlow prints nothing then.
pub(crate) fn section(model: &pb::SavedModel) -> Option<String> {
    let meta = model.meta_graphs.iter().find(|m| m.object_graph_def.is_some())?;
    let graph = meta.object_graph_def.as_ref()?;
    let order = meta.graph_def.as_ref().map(load_order).unwrap_or_default();
    let mut text = String::from("\nConcrete Functions:");
    let Some(root) = graph.nodes.first() else { return Some(text) };
    let mut children: Vec<&pb::ObjectReference> = root.children.iter().collect();
    children.sort_by(|a, b| a.local_name.cmp(&b.local_name));
    for child in children {
        let Some(node) = usize::try_from(child.node_id).ok().and_then(|i| graph.nodes.get(i)) else { continue };
        let (mut names, keywords): (Vec<&str>, &[String]) = match (&node.function, &node.bare_concrete_function) {
            (Some(f), _) => (f.concrete_functions.iter().map(String::as_str).collect(), &[]),
            (None, Some(bare)) => (vec![bare.concrete_function_name.as_str()], &bare.argument_keywords),
            (None, None) => continue,
        };
        let _ = writeln!(text, "\n  Function Name: '{}'", child.local_name);
        // TensorFlow sorts them by the names loading gives them, which
        // number them in the order it loads the library.
        names.sort_by_key(|name| (order.get(*name).copied().unwrap_or(usize::MAX), *name));
        for (index, name) in names.iter().enumerate() {
            let signature = graph.concrete_functions.get(*name).and_then(|f| f.canonicalized_input_signature.as_ref());
            let (args, kwargs) = match signature.map(decode) {
                Some(Py::Tuple(mut parts)) if parts.len() == 2 => {
                    let kwargs = parts.pop();
                    (parts.pop(), kwargs)
                }
                // A bare concrete function without a structured signature:
                // its keywords.
                _ => (Some(Py::List(keywords.iter().cloned().map(Py::Str).collect())), None),
            };
            if let Some(Py::Tuple(args) | Py::List(args)) = &args
                && !args.is_empty()
            {
                let _ = writeln!(text, "    Option #{}", index + 1);
                let _ = writeln!(text, "      Callable with:");
                print_args(&mut text, args, "Argument");
            }
            if let Some(Py::Dict(kwargs)) = &kwargs
                && !kwargs.is_empty()
            {
                // TensorFlow enumerates the dict itself: its keys.
                let keys: Vec<Py> = kwargs.iter().map(|(k, _)| Py::Str(k.clone())).collect();
                print_args(&mut text, &keys, "Named Argument");
            }
        }
    }
    Some(text)
}

/// Where each function of the library comes in the order TensorFlow's
/// loader restores them (`_sort_function_defs`: a topological sort, callees
/// first, taking the last ready function each time).
fn load_order(graph: &pb::GraphDef) -> HashMap<&str, usize> {
    let functions = graph.functions();
    let library: Vec<&str> = graph
        .library
        .iter()
        .flat_map(|l| &l.function)
        .filter_map(|f| Some(f.signature.as_ref()?.name.as_str()))
        .collect();
    let mut edges: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut in_count: HashMap<&str, usize> = HashMap::new();
    for &name in &library {
        let Some(f) = functions.get(name) else { continue };
        let mut deps: HashSet<&str> = HashSet::new();
        for node in &f.node_def {
            if functions.contains_key(node.op.as_str()) {
                deps.insert(node.op.as_str());
            }
            for attr in node.attr.values() {
                match &attr.value {
                    Some(AttrV::Func(g)) if functions.contains_key(g.name.as_str()) => {
                        deps.insert(g.name.as_str());
                    }
                    Some(AttrV::List(list)) => {
                        deps.extend(list.func.iter().map(|g| g.name.as_str()).filter(|g| functions.contains_key(g)));
                    }
                    _ => {}
                }
            }
        }
        for dep in deps {
            edges.entry(dep).or_default().push(name);
            *in_count.entry(name).or_default() += 1;
        }
    }
    let mut ready: Vec<&str> = library.iter().copied().filter(|n| in_count.get(n).is_none_or(|&c| c == 0)).collect();
    let mut order = HashMap::new();
    while let Some(name) = ready.pop() {
        order.insert(name, order.len());
        for &dest in edges.get(name).map_or(&[][..], Vec::as_slice) {
            if let Some(count) = in_count.get_mut(dest) {
                *count -= 1;
                if *count == 0 {
                    ready.push(dest);
                }
            }
        }
    }
    order
}

/// TensorFlow's `_print_args` at indent 4.
fn print_args(text: &mut String, args: &[Py], kind: &str) {
    const INDENT: &str = "        ";
    for (index, arg) in args.iter().enumerate() {
        let _ = writeln!(text, "{INDENT}{kind} #{}", index + 1);
        match arg {
            Py::Str(s) => {
                let _ = writeln!(text, "{INDENT}  {s}");
            }
            Py::Spec { name, .. } => {
                let name = name.as_deref().unwrap_or("None");
                let _ = writeln!(text, "{INDENT}  {name}: {}", repr(arg));
            }
            Py::Tuple(items) | Py::List(items) => {
                let _ = writeln!(text, "{INDENT}  DType: {}", type_name(arg));
                let values: String = items.iter().map(|v| format!("{}, ", quoted(v))).collect();
                let _ = writeln!(text, "{INDENT}  Value: [{values}\u{8}\u{8}]");
            }
            Py::Shape(Some(dims)) => {
                let _ = writeln!(text, "{INDENT}  DType: TensorShape");
                let values: String = dims.iter().map(|d| format!("{}, ", dim(*d))).collect();
                let _ = writeln!(text, "{INDENT}  Value: [{values}\u{8}\u{8}]");
            }
            Py::Dict(items) => {
                let _ = writeln!(text, "{INDENT}  DType: dict");
                let values: String = items.iter().map(|(k, v)| format!("'{k}': {}, ", quoted(v))).collect();
                let _ = writeln!(text, "{INDENT}  Value: {{{values}\u{8}\u{8}}}");
            }
            other => {
                let _ = writeln!(text, "{INDENT}  DType: {}", type_name(other));
                let _ = writeln!(text, "{INDENT}  Value: {}", str(other));
            }
        }
    }
}

/// The Python value a `StructuredValue` decodes to.
fn decode(value: &pb::StructuredValue) -> Py {
    let shape = |s: &pb::TensorShapeProto| {
        (!s.unknown_rank).then(|| s.dim.iter().map(|d| (d.size >= 0).then_some(d.size)).collect())
    };
    match &value.kind {
        None | Some(Kind::NoneValue(_)) => Py::None,
        Some(Kind::Float64Value(x)) => Py::Float(*x),
        Some(Kind::Int64Value(x)) => Py::Int(*x),
        Some(Kind::StringValue(s)) => Py::Str(s.clone()),
        Some(Kind::BoolValue(b)) => Py::Bool(*b),
        Some(Kind::TensorShapeValue(s)) => Py::Shape(shape(s)),
        Some(Kind::TensorDtypeValue(d)) => Py::DType(*d),
        Some(Kind::TensorSpecValue(spec)) => Py::Spec {
            name: (!spec.name.is_empty()).then(|| spec.name.clone()),
            shape: spec.shape.as_ref().map_or(Some(Vec::new()), shape),
            dtype: spec.dtype,
        },
        Some(Kind::ListValue(l)) => Py::List(l.values.iter().map(decode).collect()),
        Some(Kind::TupleValue(t)) => Py::Tuple(t.values.iter().map(decode).collect()),
        Some(Kind::DictValue(d)) => {
            let sorted: BTreeMap<&String, &pb::StructuredValue> = d.fields.iter().collect();
            Py::Dict(sorted.into_iter().map(|(k, v)| (k.clone(), decode(v))).collect())
        }
    }
}

fn type_name(v: &Py) -> &'static str {
    match v {
        Py::None => "NoneType",
        Py::Bool(_) => "bool",
        Py::Int(_) => "int",
        Py::Float(_) => "float",
        Py::Str(_) => "str",
        Py::Tuple(_) => "tuple",
        Py::List(_) => "list",
        Py::Dict(_) => "dict",
        Py::Spec { .. } => "TensorSpec",
        Py::Shape(_) => "TensorShape",
        Py::DType(_) => "DType",
    }
}

/// `_maybe_add_quotes`: a string in single quotes, anything else as `str`.
fn quoted(v: &Py) -> String {
    match v {
        Py::Str(s) => format!("'{s}'"),
        other => str(other),
    }
}

/// Python's `str` of the value.
fn str(v: &Py) -> String {
    match v {
        Py::Str(s) => s.clone(),
        other => repr(other),
    }
}

/// Python's `repr` of the value.
fn repr(v: &Py) -> String {
    let items = |items: &[Py]| items.iter().map(repr).collect::<Vec<_>>().join(", ");
    match v {
        Py::None => "None".into(),
        Py::Bool(b) => if *b { "True" } else { "False" }.into(),
        Py::Int(i) => i.to_string(),
        Py::Float(x) => float(*x),
        Py::Str(s) => export::python_repr(s),
        Py::Tuple(t) if t.len() == 1 => format!("({},)", items(t)),
        Py::Tuple(t) => format!("({})", items(t)),
        Py::List(l) => format!("[{}]", items(l)),
        Py::Dict(d) => {
            let pairs: Vec<String> =
                d.iter().map(|(k, v)| format!("{}: {}", export::python_repr(k), repr(v))).collect();
            format!("{{{}}}", pairs.join(", "))
        }
        Py::Spec { name, shape, dtype } => format!(
            "TensorSpec(shape={}, dtype={}, name={})",
            tensor_shape(shape.as_deref()),
            dtype_repr(*dtype),
            name.as_deref().map_or_else(|| "None".to_owned(), export::python_repr)
        ),
        Py::Shape(dims) => format!(
            "TensorShape({})",
            dims.as_ref()
                .map_or("None".into(), |d| format!("[{}]", d.iter().map(|&x| dim(x)).collect::<Vec<_>>().join(", ")))
        ),
        Py::DType(d) => dtype_repr(*d),
    }
}

/// `str(TensorShape)`: `(None, 784)`, `(3,)` for one dim, `()`,
/// `<unknown>` for an unknown rank.
fn tensor_shape(dims: Option<&[Option<i64>]>) -> String {
    match dims {
        None => "<unknown>".into(),
        Some([d]) => format!("({},)", dim(*d)),
        Some(dims) => format!("({})", dims.iter().map(|&d| dim(d)).collect::<Vec<_>>().join(", ")),
    }
}

fn dim(d: Option<i64>) -> String {
    d.map_or_else(|| "None".into(), |d| d.to_string())
}

/// `repr(tf.DType)`: `tf.float32`.
fn dtype_repr(dtype: i32) -> String {
    let name = match dtype {
        1 => "float32",
        2 => "float64",
        3 => "int32",
        4 => "uint8",
        5 => "int16",
        6 => "int8",
        7 => "string",
        8 => "complex64",
        9 => "int64",
        10 => "bool",
        14 => "bfloat16",
        17 => "uint16",
        18 => "complex128",
        19 => "float16",
        20 => "resource",
        21 => "variant",
        22 => "uint32",
        23 => "uint64",
        _ => return format!("tf.dtypes.as_dtype({dtype})"),
    };
    format!("tf.{name}")
}

/// Python's `repr` of a float: the shortest digits that read back, fixed
/// notation for exponents -4 to 15, else `1e-05` style.
fn float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let fixed = format!("{x}");
        if fixed.contains('.') { fixed } else { format!("{fixed}.0") }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_reprs() {
        assert_eq!(float(0.5), "0.5");
        assert_eq!(float(1.0), "1.0");
        assert_eq!(float(1e-5), "1e-05");
        assert_eq!(float(1.5e16), "1.5e+16");
        assert_eq!(float(123456.0), "123456.0");
        assert_eq!(tensor_shape(Some(&[None, Some(784)])), "(None, 784)");
        assert_eq!(tensor_shape(Some(&[Some(3)])), "(3,)");
        assert_eq!(tensor_shape(Some(&[])), "()");
        assert_eq!(tensor_shape(None), "<unknown>");
        let spec = Py::Spec { name: Some("x".into()), shape: Some(vec![None, Some(5)]), dtype: 1 };
        assert_eq!(repr(&spec), "TensorSpec(shape=(None, 5), dtype=tf.float32, name='x')");
    }
}
