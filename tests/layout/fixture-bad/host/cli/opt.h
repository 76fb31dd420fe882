/* a command-line header */
