package main

import "fmt"

func main() {
	fmt.Println("before the error")
	var xs []int
	fmt.Println(xs[3])
}
