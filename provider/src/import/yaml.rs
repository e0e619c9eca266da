//! A CloudFormation template as YAML, written the way examples/ are: block
//! style, the short-form tags `!Ref` and `!Sub`, comments where a reader
//! must act. Strings are double-quoted with JSON escapes, which YAML reads
//! the same way, so no value can change its type or meaning.

use serde_json::Value;

/// A node of a template.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A string, boolean or number.
    Scalar(Value),
    /// `!Sub "..."`.
    Sub(String),
    /// `!Ref NAME`.
    Ref(String),
    /// `!Equals [!Ref NAME, "VALUE"]`.
    EqualsRef(String, String),
    /// A text folded over lines (`>-`), for descriptions.
    Folded(String),
    /// A sequence.
    List(Vec<Node>),
    /// A mapping, in this order.
    Map(Vec<Entry>),
}

/// One key of a mapping, with the comment written above it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key.
    pub key: String,
    /// The value.
    pub value: Node,
    /// Comment lines written above the key.
    pub comment: Vec<String>,
}

impl Entry {
    /// `key: value` without a comment.
    pub fn new(key: &str, value: Node) -> Entry {
        Entry {
            key: key.to_owned(),
            value,
            comment: Vec::new(),
        }
    }
}

/// A string scalar.
pub fn string(text: &str) -> Node {
    Node::Scalar(Value::String(text.to_owned()))
}

/// The document `root` as YAML, after the comment lines `header`.
pub fn render(header: &[String], root: &[Entry]) -> String {
    let mut out = String::new();
    for line in header {
        out.push_str(&comment_line(0, line));
    }
    map(&mut out, 0, root);
    out
}

fn comment_line(indent: usize, text: &str) -> String {
    format!("{}# {text}\n", " ".repeat(indent))
}

/// `text` plain when YAML 1.1 (which CloudFormation reads) can only take it
/// as that string, as examples/ write `Type: String`; else double-quoted.
fn quoted(text: &str) -> String {
    let plain = text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '_' | '/' | '-'))
        && !text.ends_with(':')
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        );
    if plain {
        text.to_owned()
    } else {
        Value::String(text.to_owned()).to_string()
    }
}

/// The value on the same line as its key or dash, or `None` for a block.
fn inline(node: &Node) -> Option<String> {
    match node {
        Node::Scalar(Value::String(text)) => Some(quoted(text)),
        Node::Scalar(other) => Some(other.to_string()),
        Node::Sub(text) => Some(format!("!Sub {}", quoted(text))),
        Node::Ref(name) => Some(format!("!Ref {name}")),
        Node::EqualsRef(name, value) => Some(format!("!Equals [!Ref {name}, {}]", quoted(value))),
        Node::List(items) if items.is_empty() => Some("[]".to_owned()),
        Node::Map(entries) if entries.is_empty() => Some("{}".to_owned()),
        Node::Folded(_) | Node::List(_) | Node::Map(_) => None,
    }
}

fn map(out: &mut String, indent: usize, entries: &[Entry]) {
    for entry in entries {
        for line in &entry.comment {
            out.push_str(&comment_line(indent, line));
        }
        out.push_str(&" ".repeat(indent));
        out.push_str(&entry.key);
        out.push(':');
        value_after_key(out, indent, &entry.value);
    }
}

fn value_after_key(out: &mut String, indent: usize, node: &Node) {
    if let Some(text) = inline(node) {
        out.push(' ');
        out.push_str(&text);
        out.push('\n');
        return;
    }
    match node {
        Node::Folded(text) => {
            out.push_str(" >-\n");
            for line in wrap(text, 76) {
                out.push_str(&" ".repeat(indent + 2));
                out.push_str(&line);
                out.push('\n');
            }
        }
        Node::List(items) => {
            out.push('\n');
            list(out, indent + 2, items);
        }
        Node::Map(entries) => {
            out.push('\n');
            map(out, indent + 2, entries);
        }
        _ => {}
    }
}

fn list(out: &mut String, indent: usize, items: &[Node]) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match (inline(item), item) {
            (Some(text), _) => {
                out.push(' ');
                out.push_str(&text);
                out.push('\n');
            }
            (None, Node::Map(entries)) => {
                // The first key on the dash's line, the others under it.
                let mut first = String::new();
                map(&mut first, indent + 2, entries);
                out.push(' ');
                out.push_str(first.trim_start());
            }
            (None, Node::List(inner)) => {
                out.push('\n');
                list(out, indent + 2, inner);
            }
            (None, _) => out.push('\n'),
        }
    }
}

/// `text` in lines of at most `width` characters (longer words stay whole).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn what_is_written_reads_back_as_the_same_template() {
        let root = vec![
            Entry::new("Description", Node::Folded("a ".repeat(60))),
            Entry {
                comment: vec!["fill this in".into()],
                ..Entry::new(
                    "Resources",
                    Node::Map(vec![Entry::new(
                        "R",
                        Node::Map(vec![
                            Entry::new("Type", string("Custom::X")),
                            Entry::new(
                                "Properties",
                                Node::Map(vec![
                                    Entry::new("S", Node::Sub("a-${AWS::AccountId}".into())),
                                    Entry::new("Q", string("it's \"quoted\": yes\n#no")),
                                    Entry::new("B", Node::Scalar(json!(true))),
                                    Entry::new("T", string("true")),
                                    Entry::new("N", string("No")),
                                    Entry::new("A", string("arn:aws:iam::aws:policy/X")),
                                    Entry::new("R", Node::Ref("P".into())),
                                    Entry::new("E", Node::List(vec![])),
                                    Entry::new(
                                        "Tags",
                                        Node::List(vec![Node::Map(vec![
                                            Entry::new("Key", string("team")),
                                            Entry::new("Value", string("on: call")),
                                        ])]),
                                    ),
                                ]),
                            ),
                        ]),
                    )]),
                )
            },
        ];
        let text = render(&["header".into()], &root);
        let template = crate::template::Template::parse(&text, "written.yaml").unwrap();
        let properties = &template.section("Resources")["R"]["Properties"];
        assert_eq!(properties["S"], json!({"Fn::Sub": "a-${AWS::AccountId}"}));
        assert_eq!(properties["Q"], json!("it's \"quoted\": yes\n#no"));
        assert_eq!(properties["B"], json!(true));
        assert_eq!(properties["T"], json!("true"));
        assert_eq!(properties["N"], json!("No"));
        assert_eq!(properties["A"], json!("arn:aws:iam::aws:policy/X"));
        assert_eq!(properties["R"], json!({"Ref": "P"}));
        assert_eq!(properties["E"], json!([]));
        assert_eq!(
            properties["Tags"],
            json!([{"Key": "team", "Value": "on: call"}])
        );
        assert_eq!(
            template.document()["Description"],
            json!("a ".repeat(60).trim_end())
        );
        assert!(text.starts_with("# header\n") && text.contains("# fill this in\nResources:"));
    }
}
