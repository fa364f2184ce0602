from chatgrid.cli import main

main()
