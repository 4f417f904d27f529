using System;

public static class Program
{
    public static void Main(string[] args)
    {
        Console.WriteLine("before the error");
        int zero = args.Length;
        Console.WriteLine(1 / zero);
    }
}
