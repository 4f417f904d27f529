fun main() {
    val input = System.`in`.readBytes()
    System.out.write(input)
    System.out.flush()
}
