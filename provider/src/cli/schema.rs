//! `chatops schema`: prints the JSON Schema of one type, or of all of them.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use super::EXIT_OK;
use crate::registry;

/// Print the JSON Schema of a resource type (all types when none is named).
#[derive(Debug, clap::Args)]
pub struct Schema {
    /// The type, such as Custom::ChatbotSlackChannel.
    type_name: Option<String>,
    /// Write each schema to DIR/<type>.json instead of printing.
    #[arg(long, value_name = "DIR")]
    write: Option<PathBuf>,
}

impl Schema {
    /// Runs the command, printing to `out`.
    pub fn execute(self, out: &mut dyn Write) -> anyhow::Result<u8> {
        let names: Vec<String> = match &self.type_name {
            Some(name) => vec![name.clone()],
            None => registry::names().into_iter().map(str::to_owned).collect(),
        };
        for name in names {
            let schema = registry::lookup(&name)?.schema();
            let text = format!("{}\n", serde_json::to_string_pretty(&schema)?);
            match &self.write {
                Some(dir) => {
                    let path = dir.join(format!("{name}.json"));
                    std::fs::write(&path, text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                }
                None => out.write_all(text.as_bytes())?,
            }
        }
        Ok(EXIT_OK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;
    use crate::cli::testing::{parse, text};

    fn run(args: &[&str]) -> (anyhow::Result<u8>, String) {
        let Command::Schema(schema) = parse(args) else {
            panic!("not the schema command")
        };
        let mut out = Vec::new();
        let result = schema.execute(&mut out);
        (result, text(out))
    }

    fn committed(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../schemas")
            .join(format!("{name}.json"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn one_type_prints_its_schema_as_schemas_holds_it() {
        let (result, printed) = run(&["schema", "Custom::SupportAppSlackChannel"]);
        assert_eq!(result.unwrap(), EXIT_OK);
        assert_eq!(printed, committed("Custom::SupportAppSlackChannel"));
    }

    #[test]
    fn no_type_prints_every_schema_in_the_registry_order() {
        let (result, printed) = run(&["schema"]);
        assert_eq!(result.unwrap(), EXIT_OK);
        let expected: String = registry::names().into_iter().map(committed).collect();
        assert_eq!(registry::names().len(), 6);
        assert_eq!(printed, expected);
    }

    #[test]
    fn an_unknown_type_is_refused_with_the_known_ones() {
        let (result, printed) = run(&["schema", "Custom::ChatbotSlackChanel"]);
        let message = format!("{:#}", result.unwrap_err());
        assert!(
            message.contains("unknown resource type \"Custom::ChatbotSlackChanel\"")
                && message.contains("Custom::ChatbotSlackChannel, "),
            "{message}"
        );
        assert!(printed.is_empty(), "{printed}");
    }

    #[test]
    fn write_puts_each_schema_in_its_file_and_prints_nothing() {
        let dir = crate::cli::testing::file("marker", "")
            .parent()
            .expect("a directory")
            .to_path_buf();
        let (result, printed) = run(&["schema", "--write", dir.to_str().expect("UTF-8")]);
        assert_eq!(result.unwrap(), EXIT_OK);
        assert!(printed.is_empty(), "{printed}");
        for name in registry::names() {
            let written = std::fs::read_to_string(dir.join(format!("{name}.json")))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(written, committed(name));
        }
    }
}
