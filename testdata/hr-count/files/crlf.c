int main(void) {
    return 0; // it's DONE
}
