//! `tenantform force-unlock LOCK_ID`: removes a lock whose holder is gone.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::Args;

use crate::context::Ctx;
use crate::stack::{open_backend, prepare_stack, state_settings};

#[derive(Args, Debug)]
pub struct ForceUnlockArgs {
    /// The lock ID shown in the "state is locked" error.
    pub lock_id: String,
    /// Do not ask for confirmation.
    #[arg(long = "force")]
    pub force: bool,
}

pub fn run(args: ForceUnlockArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let Some(p) = prepare_stack(ctx, true) else { return Ok(ExitCode::from(1)) };
    let backend = open_backend(&state_settings(&p, &ctx.dir)?)?;
    let locks = backend.locks().map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some(holder) = locks.iter().find(|l| l.id == args.lock_id) else {
        eprintln!(
            "Error: no lock with ID {} (current locks: {})",
            args.lock_id,
            if locks.is_empty() {
                "none".to_string()
            } else {
                locks.iter().map(|l| l.id.clone()).collect::<Vec<_>>().join(", ")
            }
        );
        return Ok(ExitCode::from(1));
    };
    if !args.force {
        if !std::io::stdin().is_terminal() {
            anyhow::bail!("no terminal to confirm; pass -force to unlock without asking");
        }
        print!("Lock held by:\n  {holder}\n\nRemoving it while its holder still runs can corrupt state.\nOnly 'yes' will be accepted to confirm.\n\n  Enter a value: ");
        std::io::stdout().flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        if line.trim() != "yes" {
            eprintln!("force-unlock cancelled.");
            return Ok(ExitCode::from(1));
        }
    }
    backend.force_unlock(&args.lock_id).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("The lock {} has been released.", args.lock_id);
    Ok(ExitCode::SUCCESS)
}
