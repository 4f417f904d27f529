using System;

public static class Program
{
    public static void Main()
    {
        Console.Out.Write(Console.In.ReadToEnd());
    }
}
