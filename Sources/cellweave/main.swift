import CellWeaveCommands

CellWeaveCommand.main()
