//! The xnano command-line tool.
fn main() {
    println!("xnano {}", xnano::VERSION);
}
