fun main() {
    println("before the error")
    val xs = listOf<Int>()
    println(xs[3])
}
