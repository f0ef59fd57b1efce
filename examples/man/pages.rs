//! The man pages, one per command (`teamsync.1`, `teamsync-plan.1`, …): clap_mangen's sections
//! of [`teamsync::command()`], then ENVIRONMENT and EXIT STATUS from [`teamsync::man_sections`],
//! the table `teamsync --help` ends with (docs/contract.md §1, §2). Shared by `examples/man` and
//! the test that checks the pages (`tests/man.rs`).

use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

/// Every page, as (file name, roff text), the top one first.
pub fn pages(cmd: clap::Command) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let mut pages = Vec::new();
    add(cmd, &mut pages)?;
    Ok(pages)
}

/// `cmd`'s page, then its visible subcommands' pages.
fn add(cmd: clap::Command, pages: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
    // Without `after_long_help`, which clap_mangen would print as an EXTRA section: it is the
    // sections below, which are inserted as man pages write them.
    let man = Man::new(
        cmd.clone()
            .after_help(None::<&str>)
            .after_long_help(None::<&str>),
    );
    let mut page = Vec::new();
    man.render(&mut page)?;
    let mut page = String::from_utf8(page).map_err(std::io::Error::other)?;
    // Before VERSION and AUTHORS, the last sections clap_mangen writes.
    let at = ["VERSION", "AUTHORS"]
        .iter()
        .filter_map(|title| page.find(&format!("\n.SH {title}\n")))
        .min()
        .map_or(page.len(), |at| at + 1);
    page.insert_str(at, &sections());
    pages.push((man.get_filename(), page.into_bytes()));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        add(sub.clone(), pages)?;
    }
    Ok(())
}

/// ENVIRONMENT and EXIT STATUS, as roff lines.
fn sections() -> String {
    let mut roff = Roff::new();
    for section in teamsync::man_sections() {
        roff.control("SH", [section.title]);
        for (term, text) in section.entries {
            roff.control("TP", []);
            roff.text([bold(*term)]);
            roff.text([roman(*text)]);
        }
    }
    // Without the preamble every rendering starts with, which the page already has.
    let preamble = Roff::new().render();
    let text = roff.render();
    text.strip_prefix(&preamble).unwrap_or(&text).to_string()
}
