using System;

public static class Program
{
    public static void Main()
    {
        int n = "not a number";
        Console.WriteLine(n);
    }
}
