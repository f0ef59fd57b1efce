//! The man pages, one per command (`teamsync.1`, `teamsync-plan.1`, …): clap_mangen's sections
//! of [`teamsync::command()`], then ENVIRONMENT and EXIT STATUS from [`teamsync::man_sections`],
//! the table `teamsync --help` ends with (docs/contract.md §1, §2), and the command's EXAMPLES
//! ([`teamsync::man_examples`]), which its `--help` ends with too. Shared by `examples/man` and
//! the test that checks the pages (`tests/man.rs`).

use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

/// Every page, as (file name, roff text), the top one first; `date` (YYYY-MM-DD: the commit's)
/// goes into each page's title line.
pub fn pages(cmd: clap::Command, date: &str) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let mut pages = Vec::new();
    let title = Title {
        version: cmd.get_version().unwrap_or_default().to_string(),
        date: date.to_string(),
    };
    add(cmd, &title, &mut pages)?;
    Ok(pages)
}

/// What every page's title line says besides its name.
pub struct Title {
    /// teamsync's version.
    pub version: String,
    /// YYYY-MM-DD.
    pub date: String,
}

/// clap_mangen's page made clean under `mandoc -Tlint -W warning` (scripts/lint-ci `man`): its
/// `.TH` line gets the date, `teamsync VERSION` as the source and `teamsync manual` as the
/// manual (clap_mangen puts the command's version where the date goes, and a footer of the
/// name alone), and a blank line with a `.br` after it (and one before it: a paragraph break
/// written as break, blank line, break) becomes one `.sp`.
pub fn clean(page: &str, title: &Title) -> String {
    let Title { version, date } = title;
    let mut out = String::with_capacity(page.len());
    for (i, line) in page.split_inclusive('\n').enumerate() {
        if line.starts_with(".TH ") && i < 5 {
            let name = line[4..].split(' ').next().unwrap_or_default();
            out.push_str(&format!(
                ".TH {name} 1 {date} \"teamsync {version}\" \"teamsync manual\"\n"
            ));
        } else {
            out.push_str(line);
        }
    }
    out.replace("\n.br\n\n.br\n", "\n.sp\n")
        .replace("\n\n.br\n", "\n.sp\n")
}

/// `cmd`'s page, then its visible subcommands' pages.
fn add(
    cmd: clap::Command,
    title: &Title,
    pages: &mut Vec<(String, Vec<u8>)>,
) -> std::io::Result<()> {
    // Without `after_long_help`, which clap_mangen would print as an EXTRA section: it is the
    // sections below, which are inserted as man pages write them.
    let man = Man::new(
        cmd.clone()
            .after_help(None::<&str>)
            .after_long_help(None::<&str>),
    );
    let mut page = Vec::new();
    man.render(&mut page)?;
    let page = String::from_utf8(page).map_err(std::io::Error::other)?;
    // At the end, after clap_mangen's last section: the page ends with EXAMPLES.
    let page = clean(&page, title) + &sections(cmd.get_name());
    pages.push((man.get_filename(), page.into_bytes()));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        add(sub.clone(), title, pages)?;
    }
    Ok(())
}

/// ENVIRONMENT, EXIT STATUS and the EXAMPLES of the command named `name`, as roff lines.
fn sections(name: &str) -> String {
    let mut roff = Roff::new();
    let [environment, exit_status, _] = teamsync::man_sections();
    let examples = teamsync::man_examples(name);
    for section in [environment, exit_status, &examples] {
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
