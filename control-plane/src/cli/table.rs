//! Tables (or JSON) on stdout: one object as `name  value` lines, a page
//! of items as aligned columns.

use serde_json::Value;

pub(super) fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

pub(super) fn print_object(value: &Value, json: bool, columns: &[&str]) {
    if json {
        println!("{value}");
        return;
    }
    let width = columns.iter().map(|c| c.len()).max().unwrap_or(0);
    for column in columns {
        println!("{column:<width$}  {}", cell(&value[*column]));
    }
}

pub(super) fn print_list(page: &Value, json: bool, columns: &[&str]) {
    if json {
        println!("{page}");
        return;
    }
    let items = page["items"].as_array().cloned().unwrap_or_default();
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| columns.iter().map(|c| cell(&item[*c])).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .map(|r| r[i].len())
                .chain([c.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    println!(
        "{}",
        line(columns.iter().map(|c| c.to_uppercase()).collect())
    );
    for row in rows {
        println!("{}", line(row));
    }
    if let Some(cursor) = page["next_cursor"].as_str() {
        eprintln!("more: --cursor {cursor}");
    }
}
