fn main() {
    println!("before the error");
    let xs: Vec<i32> = Vec::new();
    println!("{}", xs[3]);
}
