//! `vnet sim --step`: the step-through view of a run in the terminal, in
//! the spirit of Packet Tracer's simulation mode. It draws a
//! [`StepModel`]: the event list (time, sender, receiver, protocol,
//! summary) with the selected event, the receiver's In Layers / Out Layers
//! for that event below it, and a status line with the keys.
//!
//! Keys: `↓` `j` `n` Enter or space: next event; `↑` `k` `p`: previous;
//! PgDn/PgUp: a page; `g`/`G` (Home/End): first/last; `f`: run to the next
//! event of the selected event's protocol; `/`: filter (`dns`,
//! `device r2`, `dns r2`; empty clears); `q` Esc or Ctrl-C: quit.
//!
//! Plain 16-colour output and keyboard only, so it works in any terminal,
//! over SSH too. The terminal is restored on exit, on error and on panic.

use crate::Outcome;
use crate::events::WireEvent;
use crate::step::{LayerLine, LayersSource, LayersView, StepModel, format_ms};
use anyhow::{Context, bail};
use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Frame;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::{Alignment, Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};
use std::io::{IsTerminal, Stdout};
use std::sync::Arc;
use vnet_timeline::model::TraceData;

/// Opens the step-through view of `outcome` (its event log, with the
/// frame spans of `traces`) and returns when the user quits. Fails when
/// standard output is not a terminal.
pub fn run(outcome: &Outcome, traces: &[TraceData]) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() {
        bail!(
            "--step needs a terminal (standard output is not one); \
             use `--events -` to print the event log instead"
        );
    }
    let mut app = App::new(StepModel::new(outcome.events.clone(), traces), outcome);
    let mut screen = Screen::enter()?;
    let result = app.run(&mut screen.terminal);
    drop(screen);
    result
}

type PanicHook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

/// The terminal in raw mode on the alternate screen; restored on drop and
/// by a panic hook (before the panic message is printed).
struct Screen {
    terminal: Terminal<CrosstermBackend<Stdout>>,
    previous_hook: Arc<PanicHook>,
}

/// Leaves raw mode and the alternate screen and shows the cursor; errors
/// are ignored (there is nothing better to do with them on the way out).
fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

impl Screen {
    fn enter() -> anyhow::Result<Screen> {
        enable_raw_mode().context("--step: switching the terminal to raw mode")?;
        let previous_hook = Arc::new(std::panic::take_hook());
        let hook = Arc::clone(&previous_hook);
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            hook(info);
        }));
        // From here on, dropping `screen` restores everything.
        let setup = || -> anyhow::Result<Terminal<CrosstermBackend<Stdout>>> {
            let mut stdout = std::io::stdout();
            execute!(stdout, EnterAlternateScreen)?;
            let mut terminal = Terminal::new(CrosstermBackend::new(stdout))?;
            terminal.hide_cursor()?;
            terminal.clear()?;
            Ok(terminal)
        };
        match setup() {
            Ok(terminal) => Ok(Screen {
                terminal,
                previous_hook,
            }),
            Err(e) => {
                restore_terminal();
                reinstall(previous_hook);
                Err(e.context("--step: setting up the terminal"))
            }
        }
    }
}

/// Puts `previous` back as the panic hook (not while panicking: the hook
/// cannot be changed then).
fn reinstall(previous: Arc<PanicHook>) {
    if std::thread::panicking() {
        return;
    }
    let _ = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| previous(info)));
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore_terminal();
        reinstall(Arc::clone(&self.previous_hook));
    }
}

/// What the keyboard is doing.
enum Mode {
    /// Moving through the list.
    Browse,
    /// Typing a filter after `/`.
    Prompt(String),
}

/// The view's state around the model.
struct App {
    model: StepModel,
    mode: Mode,
    /// A one-off message for the status line (cleared by the next key).
    message: Option<String>,
    /// First visible row of the table window.
    offset: usize,
    /// Rows the table showed last time (for PgUp/PgDn).
    page: usize,
    /// Column widths of the event list.
    widths: Widths,
    booted_micros: u64,
    command_micros: u64,
    end_micros: u64,
    dropped: u64,
}

/// Column widths of the event list, from the whole log (so that they do
/// not change while scrolling), capped.
#[derive(Debug, Clone, Copy)]
struct Widths {
    index: u16,
    time: u16,
    from: u16,
    at: u16,
    proto: u16,
}

impl Widths {
    fn of(events: &[WireEvent]) -> Widths {
        let widest = |f: &dyn Fn(&WireEvent) -> usize, least: usize, most: usize| {
            let w = events.iter().map(f).max().unwrap_or(0).clamp(least, most);
            u16::try_from(w).unwrap_or(u16::MAX)
        };
        Widths {
            index: widest(&|e| e.index.to_string().len(), 1, 7),
            time: widest(&|e| format_ms(e.at_micros).len(), 7, 12),
            from: widest(&|e| e.from.chars().count(), 4, 14),
            at: widest(
                &|e| e.to.chars().count() + 1 + e.to_iface.chars().count(),
                2,
                20,
            ),
            proto: widest(&|e| e.proto.len(), 5, 6),
        }
    }
}

/// What a key asks for.
enum Flow {
    Continue,
    Quit,
}

impl App {
    fn new(model: StepModel, outcome: &Outcome) -> App {
        App {
            widths: Widths::of(model.events()),
            model,
            mode: Mode::Browse,
            message: None,
            offset: 0,
            page: 10,
            booted_micros: outcome.booted_micros,
            command_micros: outcome.command_micros,
            end_micros: outcome.end_micros,
            dropped: outcome.events_dropped,
        }
    }

    fn run(&mut self, terminal: &mut Terminal<CrosstermBackend<Stdout>>) -> anyhow::Result<()> {
        loop {
            terminal.draw(|f| self.draw(f))?;
            match event::read().context("--step: reading the keyboard")? {
                Event::Key(key) if key.kind != KeyEventKind::Release => {
                    if let Flow::Quit = self.key(key) {
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
    }

    fn key(&mut self, key: KeyEvent) -> Flow {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            return Flow::Quit;
        }
        if let Mode::Prompt(text) = &mut self.mode {
            match key.code {
                KeyCode::Esc => self.mode = Mode::Browse,
                KeyCode::Enter => {
                    let text = std::mem::take(text);
                    self.mode = Mode::Browse;
                    self.apply_filter(&text);
                }
                KeyCode::Backspace => {
                    text.pop();
                }
                KeyCode::Char('u') if ctrl => text.clear(),
                KeyCode::Char(c) if !ctrl => text.push(c),
                _ => {}
            }
            return Flow::Continue;
        }
        self.message = None;
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => return Flow::Quit,
            KeyCode::Down | KeyCode::Enter | KeyCode::Char('j' | 'n' | ' ') => {
                self.message = (!self.model.next()).then(|| self.end_message("last"));
            }
            KeyCode::Up | KeyCode::Char('k' | 'p') => {
                self.message = (!self.model.prev()).then(|| self.end_message("first"));
            }
            KeyCode::PageDown => {
                self.model.move_by(self.page as isize);
            }
            KeyCode::PageUp => {
                self.model.move_by(-(self.page as isize));
            }
            KeyCode::Home | KeyCode::Char('g') => {
                self.model.first();
            }
            KeyCode::End | KeyCode::Char('G') => {
                self.model.last();
            }
            KeyCode::Char('f') => self.run_to_next_of_proto(),
            KeyCode::Char('/') => {
                let current = self.model.filter();
                let text = if current.is_empty() {
                    String::new()
                } else {
                    current.describe()
                };
                self.mode = Mode::Prompt(text);
            }
            _ => {}
        }
        Flow::Continue
    }

    fn end_message(&self, which: &str) -> String {
        if self.model.filter().is_empty() {
            format!("{which} event")
        } else {
            format!("{which} event of filter {}", self.model.filter().describe())
        }
    }

    fn run_to_next_of_proto(&mut self) {
        let Some(proto) = self.model.selected_event().map(|e| e.proto.clone()) else {
            self.message = Some("no event selected".into());
            return;
        };
        if !self.model.next_of_proto(&proto) {
            self.message = Some(format!("no later {proto} event"));
        }
    }

    fn apply_filter(&mut self, text: &str) {
        let parsed = match self.model.parse_filter(text) {
            Ok(f) => f,
            Err(e) => {
                self.message = Some(format!("filter: {e}"));
                return;
            }
        };
        let old = self.model.filter().clone();
        let kept = self
            .model
            .set_filter(parsed.proto.clone(), parsed.device.clone());
        self.message = Some(if kept == 0 {
            self.model.set_filter(old.proto, old.device);
            format!("no event matches {}; filter unchanged", parsed.describe())
        } else if parsed.is_empty() {
            format!("filter cleared: {kept} events")
        } else {
            format!("filter {}: {kept} events", parsed.describe())
        });
    }

    fn draw(&mut self, f: &mut Frame) {
        let area = f.area();
        let view = self.model.layers();
        let pane = LayersPane::new(&view);
        // The pane takes what it needs, from 6 rows up to 60% of the
        // screen; the event list the rest.
        let most = (area.height.saturating_sub(2) * 3 / 5).max(6);
        let pane_height = pane.height(area.width).clamp(6, most);
        let [header, table, layers, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(5),
            Constraint::Length(pane_height),
            Constraint::Length(1),
        ])
        .areas(area);
        self.draw_header(f, header);
        self.draw_table(f, table);
        pane.draw(f, layers);
        self.draw_status(f, status);
    }

    fn draw_header(&self, f: &mut Frame, area: Rect) {
        let position = match self.model.selected() {
            Some(pos) => format!("event {} of {}", pos + 1, self.model.len()),
            None => "no event".into(),
        };
        let mut text = format!(
            " vnet sim --step  {position}  filter: {}  booted {} ms  command {} ms  end {} ms",
            self.model.filter().describe(),
            format_ms(self.booted_micros),
            format_ms(self.command_micros),
            format_ms(self.end_micros),
        );
        if self.dropped > 0 {
            text.push_str(&format!("  ({} events not kept)", self.dropped));
        }
        f.render_widget(
            Paragraph::new(text).style(Style::new().add_modifier(Modifier::BOLD)),
            area,
        );
    }

    fn draw_table(&mut self, f: &mut Frame, area: Rect) {
        // Borders and the header row take three lines.
        let height = usize::from(area.height.saturating_sub(3)).max(1);
        self.page = height.saturating_sub(1).max(1);
        let len = self.model.len();
        let selected = self.model.selected();
        if let Some(sel) = selected {
            if sel < self.offset {
                self.offset = sel;
            } else if sel >= self.offset + height {
                self.offset = sel + 1 - height;
            }
        }
        self.offset = self.offset.min(len.saturating_sub(height));
        // The event number only when there is room for the summary.
        let numbered = area.width >= 100;
        let rows: Vec<Row> = (self.offset..len.min(self.offset + height))
            .filter_map(|pos| self.model.row(pos))
            .map(|r| {
                let at = self
                    .model
                    .events()
                    .get(r.index)
                    .map(|e| format!("{} {}", e.to, e.to_iface))
                    .unwrap_or_else(|| r.to.clone());
                let colour = proto_colour(&r.proto);
                let mut cells = Vec::with_capacity(6);
                if numbered {
                    cells.push(Cell::from(r.index.to_string()));
                }
                cells.extend([
                    Cell::from(Line::from(r.time).alignment(Alignment::Right)),
                    Cell::from(r.from),
                    Cell::from(at),
                    Cell::from(r.proto).style(Style::new().fg(colour)),
                    Cell::from(r.summary),
                ]);
                Row::new(cells)
            })
            .collect();
        let w = self.widths;
        let mut widths = Vec::with_capacity(6);
        let mut header = Vec::with_capacity(6);
        if numbered {
            widths.push(Constraint::Length(w.index));
            header.push(Cell::from("#"));
        }
        widths.extend([
            Constraint::Length(w.time),
            Constraint::Length(w.from),
            Constraint::Length(w.at),
            Constraint::Length(w.proto),
            Constraint::Min(10),
        ]);
        header.extend([
            Cell::from(Line::from("time ms").alignment(Alignment::Right)),
            Cell::from("from"),
            Cell::from("at"),
            Cell::from("proto"),
            Cell::from("summary"),
        ]);
        let table = Table::new(rows, widths)
            .header(
                Row::new(header)
                    .style(Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)),
            )
            .block(Block::new().borders(Borders::ALL).title(" Events "))
            .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED))
            .highlight_symbol("> ");
        let mut state = TableState::default().with_selected(selected.map(|sel| sel - self.offset));
        f.render_stateful_widget(table, area, &mut state);
    }

    fn draw_status(&self, f: &mut Frame, area: Rect) {
        match &self.mode {
            Mode::Prompt(text) => {
                let line = Line::from(vec![
                    Span::styled(
                        "filter (dns, device r2, dns r2; empty clears; Esc cancels): ",
                        Style::new().fg(Color::Yellow),
                    ),
                    Span::raw(text.as_str()),
                ]);
                let width = line.width();
                f.render_widget(Paragraph::new(line), area);
                let x = area
                    .x
                    .saturating_add(u16::try_from(width).unwrap_or(u16::MAX))
                    .min(area.right().saturating_sub(1));
                f.set_cursor_position(Position::new(x, area.y));
            }
            Mode::Browse => {
                let line = match &self.message {
                    Some(m) => Line::styled(m.as_str(), Style::new().fg(Color::Yellow)),
                    None => Line::styled(
                        " ↓/j/n/Enter next  ↑/k/p prev  g/G first/last  f next of this protocol  / filter  q quit",
                        Style::new().add_modifier(Modifier::DIM),
                    ),
                };
                f.render_widget(Paragraph::new(line), area);
            }
        }
    }
}

/// A colour per protocol (the 16 basic colours only).
fn proto_colour(proto: &str) -> Color {
    match proto {
        "arp" | "eth" => Color::Yellow,
        "ip" | "icmp" => Color::Red,
        "udp" | "tcp" => Color::Green,
        "dns" => Color::Cyan,
        "dhcp" => Color::Blue,
        "http" | "tls" => Color::Magenta,
        "script" => Color::LightRed,
        _ => Color::Reset,
    }
}

/// One layer line: layer, protocol (coloured), what happened.
fn layer_line(l: &LayerLine) -> Line<'_> {
    Line::from(vec![
        Span::styled(
            format!("{:<3} ", l.layer),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!("{:<5} ", l.proto),
            Style::new().fg(proto_colour(&l.proto)),
        ),
        Span::raw(l.summary.as_str()),
    ])
}

/// A heading and its lines (`(none)` when there are none).
fn section<'a>(out: &mut Vec<Line<'a>>, heading: &'a str, lines: &'a [LayerLine]) {
    out.push(Line::styled(
        heading,
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
    ));
    if lines.is_empty() {
        out.push(Line::styled(
            "(none)",
            Style::new().add_modifier(Modifier::DIM),
        ));
    }
    out.extend(lines.iter().map(layer_line));
}

/// The lines of the In Layers / Out Layers pane: the left column (note
/// and In Layers, or the decoded headers) and the right one (Out Layers
/// and other events of the span; empty when there is no span).
struct LayersPane<'a> {
    title: String,
    left: Vec<Line<'a>>,
    right: Vec<Line<'a>>,
}

/// Inner width from which In and Out layers are shown side by side.
const SIDE_BY_SIDE: u16 = 100;
/// Columns between the two sides.
const GUTTER: u16 = 2;

impl<'a> LayersPane<'a> {
    fn new(view: &'a LayersView) -> LayersPane<'a> {
        let title = match view.arrived_micros {
            Some(at) => format!(" Layers: {} (arrived {} ms) ", view.title, format_ms(at)),
            None if view.title.is_empty() => " Layers ".to_string(),
            None => format!(" Layers: {} ", view.title),
        };
        let mut left: Vec<Line> = Vec::new();
        if let Some(note) = &view.note {
            left.push(Line::styled(note.as_str(), Style::new().fg(Color::Yellow)));
        }
        let mut right: Vec<Line> = Vec::new();
        match view.source {
            LayersSource::Nothing | LayersSource::Script => {}
            LayersSource::Headers => section(&mut left, "Headers", &view.in_layers),
            LayersSource::Span => {
                section(&mut left, "In Layers", &view.in_layers);
                section(&mut right, "Out Layers", &view.out_layers);
                if !view.other.is_empty() {
                    right.push(Line::raw(""));
                    section(&mut right, "Other events", &view.other);
                }
            }
        }
        LayersPane { title, left, right }
    }

    fn side_by_side(&self, inner_width: u16) -> bool {
        !self.right.is_empty() && inner_width >= SIDE_BY_SIDE
    }

    /// Rows the pane needs at `width` (borders included), wrapping
    /// estimated by display width.
    fn height(&self, width: u16) -> u16 {
        let inner = width.saturating_sub(2);
        let rows = |lines: &[Line], w: u16| -> usize {
            let w = usize::from(w.max(1));
            lines.iter().map(|l| l.width().max(1).div_ceil(w)).sum()
        };
        let needed = if self.side_by_side(inner) {
            let w = inner.saturating_sub(GUTTER) / 2;
            rows(&self.left, w).max(rows(&self.right, w))
        } else if self.right.is_empty() {
            rows(&self.left, inner)
        } else {
            rows(&self.left, inner) + 1 + rows(&self.right, inner)
        };
        u16::try_from(needed).unwrap_or(u16::MAX).saturating_add(2)
    }

    /// Draws the pane: side by side when wide enough, else one above the
    /// other.
    fn draw(self, f: &mut Frame, area: Rect) {
        let block = Block::new().borders(Borders::ALL).title(self.title.clone());
        let inner = block.inner(area);
        f.render_widget(block, area);
        let wrap = Wrap { trim: false };
        let side_by_side = self.side_by_side(inner.width);
        let LayersPane {
            mut left, right, ..
        } = self;
        if side_by_side {
            let [l, r] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                    .spacing(GUTTER)
                    .areas(inner);
            f.render_widget(Paragraph::new(left).wrap(wrap), l);
            f.render_widget(Paragraph::new(right).wrap(wrap), r);
        } else {
            if !right.is_empty() {
                left.push(Line::raw(""));
                left.extend(right);
            }
            f.render_widget(Paragraph::new(left).wrap(wrap), inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;

    fn event(index: usize, from: &str, to: &str, proto: &str) -> WireEvent {
        WireEvent {
            index,
            at_micros: index as u64 * 1000,
            from: from.into(),
            from_iface: "eth0".into(),
            to: to.into(),
            to_iface: "eth1".into(),
            layer: "L7".into(),
            proto: proto.into(),
            summary: format!("{proto} number {index}"),
            len: 64,
            head: Vec::new(),
            trace: None,
        }
    }

    fn app() -> App {
        let events: Vec<WireEvent> = (0..50)
            .map(|i| match i % 3 {
                0 => event(i, "client", "sw1", "arp"),
                1 => event(i, "sw1", "r1", "dns"),
                _ => event(i, "r1", "r2", "tcp"),
            })
            .collect();
        let outcome = Outcome {
            output: Vec::new(),
            exit: None,
            booted_micros: 0,
            command_micros: 0,
            end_micros: 50_000,
            events: events.clone(),
            events_dropped: 0,
            spans: Vec::new(),
            tables: Default::default(),
        };
        App::new(StepModel::new(events, &[]), &outcome)
    }

    fn screen(app: &mut App, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
        terminal.draw(|f| app.draw(f)).expect("draws");
        let buffer = terminal.backend().buffer();
        buffer
            .content()
            .chunks(usize::from(width.max(1)))
            .map(|row| row.iter().map(|c| c.symbol()).collect::<String>() + "\n")
            .collect()
    }

    fn press(app: &mut App, code: KeyCode) -> bool {
        matches!(
            app.key(KeyEvent::new(code, KeyModifiers::NONE)),
            Flow::Continue
        )
    }

    fn type_text(app: &mut App, text: &str) {
        for c in text.chars() {
            press(app, KeyCode::Char(c));
        }
    }

    #[test]
    fn draws_at_any_size() {
        let mut app = app();
        for (w, h) in [(150, 40), (80, 24), (40, 10), (10, 3), (1, 1), (0, 0)] {
            screen(&mut app, w, h);
        }
        let text = screen(&mut app, 120, 30);
        assert!(text.contains("event 1 of 50"), "{text}");
        assert!(text.contains("arp number 0"), "{text}");
        assert!(text.contains("not traced: headers only"), "{text}");
    }

    #[test]
    fn keys_move_filter_and_quit() {
        let mut app = app();
        assert!(press(&mut app, KeyCode::Down));
        assert!(press(&mut app, KeyCode::Char('j')));
        assert_eq!(app.model.selected(), Some(2));
        assert!(press(&mut app, KeyCode::Char('k')));
        assert_eq!(app.model.selected(), Some(1));
        assert!(press(&mut app, KeyCode::Char('G')));
        assert_eq!(app.model.selected(), Some(49));
        assert!(press(&mut app, KeyCode::Enter));
        assert_eq!(app.message.as_deref(), Some("last event"));
        assert!(press(&mut app, KeyCode::Char('g')));
        // `f`: the next arp event.
        assert!(press(&mut app, KeyCode::Char('f')));
        assert_eq!(app.model.selected(), Some(3));
        // `/dns` filters; the cursor lands on the nearest dns event.
        assert!(press(&mut app, KeyCode::Char('/')));
        type_text(&mut app, "dns");
        assert!(screen(&mut app, 100, 20).contains("filter (dns"));
        assert!(press(&mut app, KeyCode::Enter));
        assert_eq!(app.model.filter().proto.as_deref(), Some("dns"));
        assert_eq!(app.model.selected_event().map(|e| e.index), Some(4));
        assert_eq!(app.message.as_deref(), Some("filter dns: 17 events"));
        // A filter that matches nothing leaves the filter as it was.
        press(&mut app, KeyCode::Char('/'));
        press(&mut app, KeyCode::Backspace);
        press(&mut app, KeyCode::Backspace);
        press(&mut app, KeyCode::Backspace);
        type_text(&mut app, "ospf");
        press(&mut app, KeyCode::Enter);
        assert_eq!(app.model.filter().proto.as_deref(), Some("dns"));
        assert_eq!(app.model.selected_event().map(|e| e.index), Some(4));
        // Esc in the prompt cancels; empty clears.
        press(&mut app, KeyCode::Char('/'));
        press(&mut app, KeyCode::Esc);
        assert!(matches!(app.mode, Mode::Browse));
        press(&mut app, KeyCode::Char('/'));
        app.key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        press(&mut app, KeyCode::Enter);
        assert!(app.model.filter().is_empty());
        assert_eq!(app.model.selected(), Some(4));
        assert!(!press(&mut app, KeyCode::Char('q')));
        assert!(!press(&mut app, KeyCode::Esc));
    }
}
