//! Progress bars for long work: drawn on stderr only when it is a terminal (indicatif's
//! stderr target hides itself otherwise), so pipes, files and CI logs get no escape codes.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::Duration;

fn style(template: &str) -> ProgressStyle {
    let colored = crate::out::color_enabled();
    let template = if colored {
        template.replace("{bar:30}", "{bar:30.cyan/blue}")
    } else {
        template.to_owned()
    };
    ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// A bar over `total` bytes.
pub fn bytes(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(style(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {elapsed}",
    ));
    bar.set_message(what.to_owned());
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// A bar over `total` records (0: unknown, a counter).
pub fn items(total: u64, what: &str) -> ProgressBar {
    let bar = if total == 0 {
        let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        b.set_style(style("{msg} {spinner} {pos} records {per_sec} {elapsed}"));
        b
    } else {
        let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        b.set_style(style(
            "{msg} [{bar:30}] {pos}/{len} records {per_sec} {elapsed}",
        ));
        b
    };
    bar.set_message(what.to_owned());
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}
