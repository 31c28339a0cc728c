fn main() {
    eprintln!("secretchat-server: the HTTP server is not built yet; see README.md");
    std::process::exit(2);
}
