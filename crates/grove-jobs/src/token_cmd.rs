//! `grove-jobs token create|list|revoke`: API tokens, on the database
//! directly (whoever can reach the database file is an admin already).
//! The audit trail records them as done by `cli`.

use clap::Subcommand;
use grove_app::Caller;
use grove_core::validate::Choice;
use grove_store::Role;

use crate::{DatabaseArgs, command_app};

/// What the audit trail names as the actor of these commands.
const ACTOR: &str = "cli";

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret (shown only once).
    Create {
        /// viewer (look), operator (edit and run) or admin.
        #[arg(long, default_value = "operator")]
        role: String,
        /// A name to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List the tokens not revoked: id, name, role, created, last used (never a secret).
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Revoke a token by its id: it stops working at once, and so do its console sessions.
    Revoke {
        /// The token's id, as `token list` shows it.
        id: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

pub async fn run(command: TokenCommand) -> anyhow::Result<()> {
    let db = match &command {
        TokenCommand::Create { db, .. }
        | TokenCommand::List { db }
        | TokenCommand::Revoke { db, .. } => db,
    };
    let store = grove_store::open(&db.database_url).await?;
    let app = command_app(&store);
    let by = Caller::named(ACTOR);
    let result = match command {
        TokenCommand::Create { role, name, .. } => match Role::from_name(&role) {
            None => Err(anyhow::anyhow!(
                "--role must be viewer, operator or admin, got \"{role}\""
            )),
            Some(role) => app
                .create_token(&name, role, &by)
                .await
                .map(|new| println!("{}", new.secret))
                .map_err(Into::into),
        },
        TokenCommand::List { .. } => app
            .tokens()
            .await
            .map(|tokens| print!("{}", table(&tokens)))
            .map_err(Into::into),
        TokenCommand::Revoke { id, .. } => app
            .revoke_token(&id, &by)
            .await
            .map(|t| println!("revoked token {} ({}, {})", t.id, t.name, t.role.name()))
            .map_err(Into::into),
    };
    store.close().await;
    result
}

/// The tokens as an aligned table with a header row.
fn table(tokens: &[grove_store::ApiToken]) -> String {
    let mut rows = vec![[
        "ID".to_owned(),
        "NAME".to_owned(),
        "ROLE".to_owned(),
        "CREATED".to_owned(),
        "LAST USED".to_owned(),
    ]];
    for t in tokens {
        rows.push([
            t.id.clone(),
            t.name.clone(),
            t.role.name().to_owned(),
            t.created_at.to_string(),
            t.last_used_at
                .map_or_else(|| "never".to_owned(), |u| u.to_string()),
        ]);
    }
    let widths: Vec<usize> = (0..5)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}
