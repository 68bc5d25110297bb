from deckgen.cli import main

if __name__ == "__main__":  # a parallel build's workers may import this module (spawn start)
    main()
