from meshobs.cli import main

main()
