from sift.cli import main

main()
