#include <iostream>

int main()
{
    long long x, s = 0;
    while (std::cin >> x)
        s += x;
    std::cout << s << '\n';
}
