from streamml.cli import main

main()
