#include <iostream>
#include <stdexcept>

int main()
{
    std::cout << "before the error" << std::endl;
    throw std::runtime_error("boom");
}
