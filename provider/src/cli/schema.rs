//! `chatops schema`: prints the JSON Schema of one type, or of all of them.

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
    /// Runs the command.
    pub fn execute(self) -> anyhow::Result<u8> {
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
                None => print!("{text}"),
            }
        }
        Ok(EXIT_OK)
    }
}
