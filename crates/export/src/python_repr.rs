//! Python's `repr` of a string: how TensorFlow's tools print tag sets,
//! tensor names and op names (`saved_model_cli`), so that ours print them
//! alike.

/// Python's `repr` of `s`: in single quotes, or in double ones if it holds
/// a single quote and no double, with backslashes and control characters
/// escaped.
///
/// ```
/// assert_eq!(export::python_repr("serve"), "'serve'");
/// assert_eq!(export::python_repr("it's"), "\"it's\"");
/// ```
pub fn python_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::from(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}
