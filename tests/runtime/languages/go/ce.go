package main

import "fmt"

func main() {
	var n int = "not a number"
	fmt.Println(n)
}
